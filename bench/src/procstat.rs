//! Resident memory and CPU time of another process, read from `/proc/<pid>/`.

use std::time::Duration;

use crate::{Error, Result};

/// One reading of a process's resources.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Sample {
    /// Resident set size (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// User + system CPU time so far (`utime + stime`).
    pub cpu_s: f64,
    /// The kernel's part (`stime`): syscalls such as one write per frame.
    pub system_s: f64,
}

/// Reads `pid`'s RSS and CPU time.
pub fn sample(pid: u32) -> Result<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| Error::Setup(format!("no VmRSS for pid {pid}")))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; fields are counted after its ')'.
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| Error::Setup(format!("unreadable /proc/{pid}/stat")))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 14 (utime) and 15 (stime) of stat(5); `after` starts at field 3.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (utime, stime) = ticks(11)
        .zip(ticks(12))
        .ok_or_else(|| Error::Setup(format!("no cpu times for pid {pid}")))?;
    Ok(Sample {
        rss_kib,
        cpu_s: (utime + stime) as f64 / ticks_per_second(),
        system_s: stime as f64 / ticks_per_second(),
    })
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The 1-minute load average, to say how busy the shared machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Share of the CPU time between two samples spent in the kernel.
pub fn system_share(before: Sample, after: Sample) -> f64 {
    let total = after.cpu_s - before.cpu_s;
    if total > 0.0 {
        (after.system_s - before.system_s) / total
    } else {
        0.0
    }
}

/// CPU time used between two samples.
pub fn cpu_between(before: Sample, after: Sample) -> Duration {
    Duration::from_secs_f64((after.cpu_s - before.cpu_s).max(0.0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_own_process_can_be_sampled() {
        let sample = super::sample(std::process::id()).unwrap();
        assert!(sample.rss_kib > 0);
    }
}
