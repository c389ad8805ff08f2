//! deploy/herald.toml ships as the herald-server package's /etc/herald/herald.toml:
//! every key of `Config` is there with its default (commented out), no line names
//! a key that does not exist, and the file loads as it ships. A key added to
//! `Config` fails here until it is documented in the file.

use std::path::PathBuf;

use figment::providers::{Format, Toml};
use figment::Figment;
use herald_server::{Config, Flags};
use serde_json::{Map, Value};

fn packaged_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/herald.toml")
}

/// One `key = value` line of the file, set or commented out.
#[derive(Debug)]
struct Setting {
    key: String,
    value: Value,
    commented: bool,
}

/// The `key = value` lines, in order; prose comments have no ` = ` after a bare key.
fn settings() -> Vec<Setting> {
    let text = std::fs::read_to_string(packaged_file()).expect("deploy/herald.toml");
    text.lines()
        .filter_map(|line| {
            let (commented, rest) = match line.strip_prefix("# ") {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let (key, _) = rest.split_once(" = ")?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return None;
            }
            let parsed: Map<String, Value> = Figment::from(Toml::string(rest))
                .extract()
                .unwrap_or_else(|e| panic!("{line:?} is not TOML: {e}"));
            Some(Setting {
                key: key.to_string(),
                value: parsed[key].clone(),
                commented,
            })
        })
        .collect()
}

fn defaults() -> Map<String, Value> {
    match serde_json::to_value(Config::default()).expect("Config serializes") {
        Value::Object(keys) => keys,
        other => panic!("Config is not a table: {other}"),
    }
}

#[test]
fn every_config_key_is_in_the_packaged_file_with_its_default() {
    let settings = settings();
    for (key, default) in defaults() {
        let lines: Vec<&Setting> = settings.iter().filter(|s| s.key == key).collect();
        assert!(
            !lines.is_empty(),
            "deploy/herald.toml has no line for `{key}`: add `# {key} = …` with its default and what it does"
        );
        // A key the package sets (data_dir) shows the package's value instead.
        if default.is_null() || lines.iter().any(|s| !s.commented) {
            continue;
        }
        assert_eq!(
            lines[0].value, default,
            "deploy/herald.toml shows `{key}` with a value that is not its default"
        );
    }
}

#[test]
fn the_packaged_file_names_no_unknown_key() {
    let known = defaults();
    for setting in settings() {
        assert!(
            known.contains_key(&setting.key),
            "deploy/herald.toml names `{}`, which is not a configuration key",
            setting.key
        );
    }
}

#[test]
fn the_packaged_file_loads_and_keeps_data_in_var_lib_herald() {
    let flags = Flags {
        config: Some(packaged_file()),
        ..Flags::default()
    };
    let config = Config::load(&flags).expect("deploy/herald.toml loads");
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/herald"));
    assert_eq!(config.listen, Config::default().listen);
}
