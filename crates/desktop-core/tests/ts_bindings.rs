//! Generates `ui/src/bindings/protocol.ts` from herald-protocol's OpenAPI schemas
//! (the `utoipa::ToSchema` derives) and fails when the committed file is stale, so
//! a payload change breaks the UI's type check instead of the running app.
//!
//! Regenerate: `HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings`

use std::collections::BTreeMap;
use std::path::PathBuf;

use herald_protocol as p;
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

type Schemas = Vec<(String, RefOr<Schema>)>;

fn collect<T: ToSchema>(out: &mut Schemas) {
    out.push((T::name().to_string(), T::schema()));
    T::schemas(out);
}

/// Every protocol type the window sees; referenced types come along.
fn schemas() -> BTreeMap<String, Value> {
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
    all.into_iter()
        .map(|(name, schema)| {
            (
                name,
                serde_json::to_value(schema).expect("schemas serialize"),
            )
        })
        .collect()
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

fn render() -> String {
    let mut out = String::from(
        "// Generated from crates/protocol by crates/desktop-core/tests/ts_bindings.rs — do not edit.\n\
         // Regenerate: HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings\n\n\
         /** One page of a list plus the opaque cursor of the next page (absent on the last). */\n\
         export interface Page<T> {\n  items: T[];\n  next_cursor?: string | null;\n}\n",
    );
    for (name, schema) in schemas() {
        out.push('\n');
        if let Some(doc) = schema.get("description").and_then(Value::as_str) {
            out.push_str(&format!("/** {} */\n", doc.replace('\n', " ")));
        }
        let body = ts_type(&schema);
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

#[test]
fn typescript_bindings_match_the_protocol() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings/protocol.ts");
    let fresh = render();
    if std::env::var_os("HERALD_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings",
        path.display()
    );
}
