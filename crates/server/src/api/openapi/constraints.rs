//! Rules the derives cannot state: text patterns and lengths, and fields that
//! go together.
//!
//! Every text field people send is listed in [`TEXT_FIELDS`] or
//! [`TEXT_PARAMS`] with the constant the server checks it against, so the
//! document and the server agree by construction. A new text field (a topic
//! name, a tag) gets a line here and is checked with `herald_protocol::text`.

use herald_protocol::text::{
    LINK_PATTERN, MULTI_LINE_PATTERN, REQUIRED_LINE_PATTERN, REQUIRED_TEXT_PATTERN,
    SINGLE_LINE_PATTERN,
};
use herald_protocol::{
    MAX_CATEGORY_CHARS, MAX_CLIENT_ID_CHARS, MAX_CONTENT_CHARS, MAX_DEVICE_CHARS,
    MAX_DISPLAY_NAME_CHARS, MAX_LINK_CHARS, MAX_MESSAGE_CHARS, MAX_ROOM_NAME_CHARS,
    MAX_SEARCH_CHARS, MAX_TITLE_CHARS, MAX_TOKEN_NAME_CHARS,
};
use serde_json::{json, Value};

/// Which `herald_protocol::text` check a field gets.
#[derive(Clone, Copy)]
enum Text {
    /// `single_line`: may be empty.
    Line,
    /// `required_line`: not blank.
    RequiredLine,
    /// `multi_line`: may be empty.
    Content,
    /// `multi_line` and `not_blank`.
    RequiredContent,
    /// `link`.
    Link,
}

impl Text {
    fn pattern(self) -> &'static str {
        match self {
            Text::Line => SINGLE_LINE_PATTERN,
            Text::RequiredLine => REQUIRED_LINE_PATTERN,
            Text::Content => MULTI_LINE_PATTERN,
            Text::RequiredContent => REQUIRED_TEXT_PATTERN,
            Text::Link => LINK_PATTERN,
        }
    }
}

/// Schema, property, rule, most characters.
const TEXT_FIELDS: &[(&str, &str, Text, usize)] = &[
    (
        "SendNotification",
        "title",
        Text::RequiredLine,
        MAX_TITLE_CHARS,
    ),
    (
        "SendNotification",
        "content",
        Text::Content,
        MAX_CONTENT_CHARS,
    ),
    ("SendNotification", "link", Text::Link, MAX_LINK_CHARS),
    (
        "SendNotification",
        "category",
        Text::Line,
        MAX_CATEGORY_CHARS,
    ),
    (
        "RegisterRequest",
        "display_name",
        Text::RequiredLine,
        MAX_DISPLAY_NAME_CHARS,
    ),
    (
        "CreateUserRequest",
        "display_name",
        Text::RequiredLine,
        MAX_DISPLAY_NAME_CHARS,
    ),
    (
        "UpdateUserRequest",
        "display_name",
        Text::RequiredLine,
        MAX_DISPLAY_NAME_CHARS,
    ),
    (
        "LoginRequest",
        "device",
        Text::RequiredLine,
        MAX_DEVICE_CHARS,
    ),
    (
        "CreateTokenRequest",
        "name",
        Text::RequiredLine,
        MAX_TOKEN_NAME_CHARS,
    ),
    (
        "SendMessage",
        "content",
        Text::RequiredContent,
        MAX_MESSAGE_CHARS,
    ),
    ("SendMessage", "client_id", Text::Line, MAX_CLIENT_ID_CHARS),
    (
        "CreateRoom",
        "name",
        Text::RequiredLine,
        MAX_ROOM_NAME_CHARS,
    ),
];

/// Query parameter, rule, most characters (wherever the parameter appears).
const TEXT_PARAMS: &[(&str, Text, usize)] = &[
    ("q", Text::Line, MAX_SEARCH_CHARS),
    ("category", Text::Line, MAX_CATEGORY_CHARS),
];

/// Query parameters read as `u32` whose value the server does not otherwise
/// limit (a larger `wait` is lowered): the type's bound is the rule. (The
/// derive writes `format: int32`, whose range is smaller.)
const U32_PARAMS: &[&str] = &["wait"];

pub fn apply(doc: &mut Value) {
    for &(schema, property, text, max) in TEXT_FIELDS {
        let field = &mut doc["components"]["schemas"][schema]["properties"][property];
        assert!(
            field.is_object(),
            "{schema}.{property} is not in the document"
        );
        constrain(field, text, max);
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        let operations = paths.values_mut().filter_map(Value::as_object_mut);
        for operation in operations.flat_map(|o| o.values_mut()) {
            let params = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for param in params.into_iter().flatten() {
                let rule = TEXT_PARAMS
                    .iter()
                    .find(|(name, _, _)| param["name"] == *name);
                if let Some(&(_, text, max)) = rule {
                    constrain(&mut param["schema"], text, max);
                }
                if U32_PARAMS.iter().any(|name| param["name"] == *name) {
                    param["schema"]["maximum"] = json!(u32::MAX);
                    param["schema"]["format"] = json!("int64");
                }
            }
        }
    }
    tie_fields(doc);
}

fn constrain(schema: &mut Value, text: Text, max: usize) {
    schema["pattern"] = json!(text.pattern());
    schema["maxLength"] = json!(max);
}

/// Requests whose fields depend on each other: the object as derived, and
/// (`allOf`) the rule that ties them.
fn tie_fields(doc: &mut Value) {
    let rules = [
        (
            "SendNotification",
            "Exactly one of `to` (usernames) and `broadcast: true` (admins only). \
             `persist: false` (an ephemeral push, never stored) only with `desktop: true`.",
            json!([
                {"oneOf": [
                    {"required": ["to"], "properties": {"to": {"type": "array"}, "broadcast": {"const": false}}},
                    {"required": ["broadcast"], "properties": {"broadcast": {"const": true}, "to": {"type": "null"}}}
                ]},
                {"anyOf": [
                    {"properties": {"persist": {"const": true}}},
                    {"required": ["desktop"], "properties": {"desktop": {"const": true}}}
                ]}
            ]),
        ),
        (
            "MarkRequest",
            "Either `ids`, or `all: true` with an optional `kind`.",
            json!([{"oneOf": [
                {"required": ["ids"], "properties": {"ids": {"type": "array"}, "all": {"const": false}, "kind": {"type": "null"}}},
                {"required": ["all"], "properties": {"all": {"const": true}, "ids": {"type": "null"}}}
            ]}]),
        ),
        (
            "SendMessage",
            "Exactly one of `to` (a username, not your own) and `room` (a room you are in).",
            json!([{"oneOf": [
                {"required": ["to"], "properties": {"to": {"type": "string"}, "room": {"type": "null"}}},
                {"required": ["room"], "properties": {"room": {"type": "integer"}, "to": {"type": "null"}}}
            ]}]),
        ),
    ];
    for (name, description, ties) in rules {
        let schema = &mut doc["components"]["schemas"][name];
        assert!(schema.is_object(), "{name} is not in the document");
        let derived = schema.take();
        let mut parts = vec![derived];
        parts.extend(ties.as_array().into_iter().flatten().cloned());
        *schema = json!({"description": description, "allOf": parts});
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec;
    use serde_json::Value;

    /// `(schema, property)` of every string in a request body, and its schema.
    fn request_strings(doc: &Value) -> Vec<(String, String, Value)> {
        let mut bodies = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let body = &operation["requestBody"]["content"]["application/json"]["schema"];
                if let Some(name) = body["$ref"].as_str() {
                    bodies.push(name.trim_start_matches("#/components/schemas/").to_owned());
                }
            }
        }
        let mut strings = Vec::new();
        for name in bodies {
            let schema = &doc["components"]["schemas"][&name];
            let derived = schema["allOf"].get(0).unwrap_or(schema);
            for (property, field) in derived["properties"].as_object().into_iter().flatten() {
                let types = field["type"].to_string();
                if types.contains("string") {
                    strings.push((name.clone(), property.clone(), field.clone()));
                }
            }
        }
        strings
    }

    /// The parameter `name` of `GET path`.
    fn query_param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
        let params = doc["paths"][path]["get"]["parameters"].as_array();
        params
            .into_iter()
            .flatten()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("GET {path} has no {name}"))
    }

    #[test]
    fn every_text_field_in_a_request_has_a_length_limit() {
        let doc = spec();
        // Login compares these with what is stored: any string just fails.
        let free = [("LoginRequest", "username"), ("LoginRequest", "password")];
        let strings = request_strings(&doc);
        assert!(strings.len() > 10, "{strings:?}");
        for (schema, property, field) in strings {
            if free.contains(&(schema.as_str(), property.as_str())) {
                continue;
            }
            assert!(
                field["maxLength"].is_u64(),
                "{schema}.{property} has no maxLength: {field}"
            );
        }
    }

    #[test]
    fn text_fields_carry_the_servers_limits() {
        let doc = spec();
        let title =
            &doc["components"]["schemas"]["SendNotification"]["allOf"][0]["properties"]["title"];
        assert_eq!(title["maxLength"], herald_protocol::MAX_TITLE_CHARS);
        assert_eq!(
            title["pattern"],
            herald_protocol::text::REQUIRED_LINE_PATTERN
        );
        let q = query_param(&doc, "/api/v1/users", "q");
        assert_eq!(q["schema"]["maxLength"], herald_protocol::MAX_SEARCH_CHARS);
    }

    #[test]
    fn numeric_limits_match_the_protocol_constants() {
        let doc = spec();
        let schemas = &doc["components"]["schemas"];
        let send = &schemas["SendNotification"]["allOf"][0]["properties"];
        assert_eq!(send["to"]["maxItems"], herald_protocol::MAX_RECIPIENTS);
        assert_eq!(
            send["priority"]["minimum"],
            *herald_protocol::PRIORITY_RANGE.start()
        );
        assert_eq!(
            send["priority"]["maximum"],
            *herald_protocol::PRIORITY_RANGE.end()
        );
        let ids = &schemas["DeleteRequest"]["properties"]["ids"];
        assert_eq!(ids["maxItems"], herald_protocol::MAX_IDS_PER_REQUEST);
        let members = &schemas["CreateRoom"]["properties"]["members"];
        assert_eq!(members["maxItems"], herald_protocol::MAX_ROOM_MEMBERS - 1);
        let limit = query_param(&doc, "/api/v1/notifications", "limit");
        assert_eq!(limit["schema"]["maximum"], herald_protocol::MAX_PAGE_LIMIT);
    }
}
