//! Reading secrets: from a no-echo terminal prompt, or one line of stdin for scripts.

use std::io::BufRead;

use herald_client::{Error, Result};

/// Reads the first line of stdin as a password (`--password-stdin`), so scripts
/// never put it in the process list or shell history.
pub fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(Error::Terminal)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(Error::Usage(
            "--password-stdin: stdin held no password (expected one line)".into(),
        ));
    }
    Ok(password)
}

/// Asks for a password on the terminal without echoing it.
pub fn password_prompt(prompt: &str) -> Result<String> {
    let password = rpassword::prompt_password(prompt).map_err(|e| {
        Error::Usage(format!(
            "cannot read a password from the terminal ({e}); use --password-stdin"
        ))
    })?;
    if password.is_empty() {
        return Err(Error::Usage("the password is empty".into()));
    }
    Ok(password)
}

/// Asks twice for a new password, so a typo does not lock someone out.
pub fn new_password_prompt(prompt: &str) -> Result<String> {
    let first = password_prompt(prompt)?;
    let second = password_prompt("Repeat the password: ")?;
    if first != second {
        return Err(Error::Usage("the passwords do not match".into()));
    }
    Ok(first)
}
