//! Generates the window's TypeScript types and fails when the committed files
//! are stale, so a payload change breaks the UI's type check instead of the
//! running app:
//!
//! - `ui/src/bindings/protocol.ts`: herald-protocol's OpenAPI schemas (its
//!   `utoipa::ToSchema` derives);
//! - `ui/src/bindings/ipc.ts`: what crosses between the desktop shell and its
//!   window — every command with its arguments and answer, every event with its
//!   payload, and the types they carry (herald-client's `ClientEvent`, the
//!   session, the settings…), from `herald_desktop_core::ipc`.
//!
//! Regenerate: `HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings`

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use herald_desktop_core::ipc::{self, ShellEvent};
use herald_protocol as p;
use serde_json::Value;
use utoipa::ToSchema;

type Schemas = ipc::Schemas;

const REGENERATE: &str =
    "HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings";

fn collect<T: ToSchema>(out: &mut Schemas) {
    out.push((T::name().to_string(), T::schema()));
    T::schemas(out);
}

fn by_name(all: Schemas) -> BTreeMap<String, Value> {
    all.into_iter()
        .map(|(name, schema)| {
            (
                name,
                serde_json::to_value(schema).expect("schemas serialize"),
            )
        })
        .collect()
}

/// Every protocol type the window sees; referenced types come along.
fn protocol_schemas() -> BTreeMap<String, Value> {
    let mut all = Schemas::new();
    collect::<p::Notification>(&mut all);
    collect::<p::Counts>(&mut all);
    collect::<p::User>(&mut all);
    collect::<p::Event>(&mut all);
    collect::<p::EventEnvelope>(&mut all);
    collect::<p::KindFilter>(&mut all);
    collect::<p::StatusFilter>(&mut all);
    collect::<p::ChangeResult>(&mut all);
    collect::<p::ErrorDetail>(&mut all);
    collect::<p::SendNotification>(&mut all);
    collect::<p::Contact>(&mut all);
    collect::<p::FoundUser>(&mut all);
    collect::<p::Room>(&mut all);
    collect::<p::ConversationKind>(&mut all);
    by_name(all)
}

/// What the commands and events carry, less what protocol.ts already has.
fn ipc_schemas(protocol: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let mut all = ipc::command_schemas();
    all.extend(ShellEvent::schemas());
    let mut schemas = by_name(all);
    schemas.retain(|name, _| !protocol.contains_key(name));
    schemas.values_mut().for_each(require_all);
    schemas
}

/// Marks every property required. The shell serializes every field of what it
/// sends (none is `skip_serializing_if`, see `herald_desktop_core::ipc`), so a
/// field utoipa calls optional — an `Option`, or under `#[serde(default)]`,
/// which only matters when reading — is always there, `null` at most.
fn require_all(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let names = props.keys().cloned().map(Value::String).collect();
                map.insert("required".into(), Value::Array(names));
            }
            map.values_mut().for_each(require_all);
        }
        Value::Array(items) => items.iter_mut().for_each(require_all),
        _ => {}
    }
}

fn ts_type(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(items) = v
        .get("oneOf")
        .or_else(|| v.get("anyOf"))
        .and_then(Value::as_array)
    {
        return union(items.iter().map(ts_type));
    }
    if let Some(items) = v.get("allOf").and_then(Value::as_array) {
        let parts: Vec<_> = items.iter().map(ts_type).collect();
        return parts.join(" & ");
    }
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        return union(values.iter().map(|e| e.to_string()));
    }
    let types: Vec<&str> = match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return if v.get("properties").is_some() {
            object(v)
        } else {
            "unknown".into()
        };
    }
    union(types.iter().map(|t| match *t {
        "string" => "string".to_string(),
        "integer" | "number" => "number".to_string(),
        "boolean" => "boolean".to_string(),
        "null" => "null".to_string(),
        "array" => {
            let item = v
                .get("items")
                .map(ts_type)
                .unwrap_or_else(|| "unknown".into());
            if item.contains(' ') {
                format!("({item})[]")
            } else {
                format!("{item}[]")
            }
        }
        "object" => object(v),
        _ => "unknown".to_string(),
    }))
}

fn union(parts: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    // `null` last reads best: `string | null`.
    seen.sort_by_key(|p| p == "null");
    seen.join(" | ")
}

fn object(v: &Value) -> String {
    let required: Vec<&str> = v
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = v.get("properties").and_then(Value::as_object) else {
        return match v.get("additionalProperties") {
            Some(ap) if ap.is_object() => format!("Record<string, {}>", ts_type(ap)),
            _ => "Record<string, unknown>".into(),
        };
    };
    let mut out = String::from("{\n");
    for (name, schema) in props {
        if let Some(doc) = schema.get("description").and_then(Value::as_str) {
            out.push_str(&format!("  /** {} */\n", doc.replace('\n', " ")));
        }
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            "?"
        };
        out.push_str(&format!("  {name}{optional}: {};\n", ts_type(schema)));
    }
    out.push('}');
    out
}

/// One `export` per schema, by name.
fn declarations(schemas: &BTreeMap<String, Value>) -> String {
    let mut out = String::new();
    for (name, schema) in schemas {
        out.push('\n');
        if let Some(doc) = schema.get("description").and_then(Value::as_str) {
            out.push_str(&format!("/** {} */\n", doc.replace('\n', " ")));
        }
        let body = ts_type(schema);
        if body.starts_with('{') && schema.get("oneOf").is_none() {
            out.push_str(&format!("export interface {name} {body}\n"));
        } else if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
            // One variant per line, each object indented under its `|`.
            out.push_str(&format!("export type {name} =\n"));
            for v in variants {
                let variant = ts_type(v).replace('\n', "\n    ");
                out.push_str(&format!("  | {variant}\n"));
            }
            out.push_str(";\n");
        } else {
            out.push_str(&format!("export type {name} = {body};\n"));
        }
    }
    out
}

fn header(from: &str) -> String {
    format!(
        "// Generated from {from} by crates/desktop-core/tests/ts_bindings.rs — do not edit.\n\
         // Regenerate: {REGENERATE}\n"
    )
}

fn render_protocol(schemas: &BTreeMap<String, Value>) -> String {
    let mut out = header("crates/protocol");
    out.push_str(
        "\n/** One page of a list plus the opaque cursor of the next page (absent on the last). */\n\
         export interface Page<T> {\n  items: T[];\n  next_cursor?: string | null;\n}\n",
    );
    out.push_str(&declarations(schemas));
    out
}

/// `conversation_id` → `conversationId`: how Tauri expects argument names.
fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn doc_comment(doc: &str, indent: &str) -> String {
    let lines: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("{indent}/** {} */\n", lines.join(" "))
}

fn render_ipc(protocol: &BTreeMap<String, Value>) -> String {
    let mut body = declarations(&ipc_schemas(protocol));
    body.push_str(
        "\n/** Every command the window can invoke: its arguments, by name, and its answer. */\n\
         export interface Commands {\n",
    );
    for command in ipc::commands() {
        body.push_str(&doc_comment(command.doc, "  "));
        let args = if command.args.is_empty() {
            "Record<string, never>".to_string()
        } else {
            let fields: Vec<String> = command
                .args
                .iter()
                .map(|(name, ts)| format!("{}: {ts}", camel_case(name)))
                .collect();
            format!("{{ {} }}", fields.join("; "))
        };
        body.push_str(&format!(
            "  {}: {{ args: {args}; answer: {} }};\n",
            command.name, command.answer
        ));
    }
    body.push_str("}\n\n/** The events the shell sends to the window, by name. */\nexport const ShellEvent = {\n");
    for (variant, name, _) in ShellEvent::specs() {
        body.push_str(&format!("  {variant}: \"{name}\",\n"));
    }
    body.push_str("} as const;\n\n/** Each event's payload. */\nexport interface ShellEvents {\n");
    for (_, name, payload) in ShellEvent::specs() {
        body.push_str(&format!("  \"{name}\": {payload};\n"));
    }
    body.push_str("}\n");

    // Import the protocol types the declarations above mention (in code, not
    // in their doc comments: TypeScript refuses an import nothing uses).
    let code = without_doc_comments(&body);
    let words: BTreeSet<&str> = code
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    let imports: Vec<&str> = protocol
        .keys()
        .map(String::as_str)
        .filter(|name| words.contains(name))
        .collect();
    let mut out = header("crates/client and crates/desktop-core");
    out.push_str(&format!(
        "\nimport type {{ {} }} from \"./protocol\";\n",
        imports.join(", ")
    ));
    out.push_str(&body);
    out
}

/// `ts` with every `/** … */` comment removed.
fn without_doc_comments(ts: &str) -> String {
    let mut code = String::with_capacity(ts.len());
    let mut rest = ts;
    while let Some(start) = rest.find("/**") {
        code.push_str(&rest[..start]);
        rest = rest[start..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    code.push_str(rest);
    code
}

/// Writes `fresh` to `path` when regenerating; otherwise fails if they differ.
fn check(relative: &str, fresh: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("HERALD_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, fresh).expect("bindings written");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run {REGENERATE}",
        path.display()
    );
}

#[test]
fn typescript_bindings_match_the_protocol() {
    check(
        "../../ui/src/bindings/protocol.ts",
        &render_protocol(&protocol_schemas()),
    );
}

#[test]
fn typescript_bindings_match_the_commands_and_events() {
    check(
        "../../ui/src/bindings/ipc.ts",
        &render_ipc(&protocol_schemas()),
    );
}
