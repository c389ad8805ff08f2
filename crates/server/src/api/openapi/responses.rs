//! The error answers of every operation, as shared response objects.
//!
//! Many answers follow from an operation's shape rather than from what it
//! does, and the extractors give them uniformly: a JSON body can be malformed
//! (400), too large (413) or not JSON (415); a bearer token can be missing (401)
//! or of the wrong kind or role (403); parameters can be invalid (400); and
//! anything that reads the store can fail (500) or find it closing (503). This
//! pass adds those to each operation and turns every error status an
//! annotation lists (404, 409, 422, 429, …) into a reference to the shared
//! object, so each status is described once, with its codes.

use serde_json::{json, Map, Value};

/// Status, name under `#/components/responses`, and what it means here.
const ERRORS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "`invalid_input`: a field, parameter or path id breaks a rule (the message names it); `malformed_json`: the body is not JSON"),
    ("401", "Unauthorized", "`unauthorized`: no token, an unknown or revoked one, a disabled account, or a wrong password"),
    ("403", "Forbidden", "`forbidden`: a send-only token on a session route, a non-admin on an admin route, or an action the caller may not take"),
    ("404", "NotFound", "`not_found`: the id does not exist for the caller"),
    ("409", "Conflict", "`conflict`: the username is taken, or the `client_id` was used for another message"),
    ("413", "PayloadTooLarge", "`payload_too_large`: the body is over 256 KiB"),
    ("415", "UnsupportedMediaType", "`unsupported_media_type`: the body is not sent as `application/json`"),
    ("422", "UnknownUsers", "`unknown_users`: named users do not exist or are disabled; nothing was stored"),
    ("429", "RateLimited", "`rate_limited`: too many requests; retry after `Retry-After` seconds"),
    ("500", "Internal", "`internal`: an unexpected failure; the details are in the server log"),
    ("503", "ShuttingDown", "`shutting_down`: the server is stopping; retry against the restarted server"),
];

/// Routes that answer without touching storage (and so never 500 or 503).
const STATELESS: &[&str] = &["/metrics", "/api/openapi.json"];

pub fn apply(doc: &mut Value) {
    doc["components"]["responses"] = shared_responses();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let mut statuses = implied_statuses(operation);
            if STATELESS.contains(&path.as_str()) {
                statuses.retain(|s| !matches!(*s, "500" | "503"));
            }
            let responses = operation["responses"]
                .as_object_mut()
                .expect("every operation has responses");
            for status in statuses {
                responses.insert(status.to_owned(), Value::Null);
            }
            for (status, response) in responses.iter_mut() {
                let shared = ERRORS.iter().find(|(s, _, _)| s == status);
                if let Some((_, name, _)) = shared.filter(|_| is_error_body(response)) {
                    *response = json!({"$ref": format!("#/components/responses/{name}")});
                }
            }
        }
    }
}

/// Added here, or annotated with the JSON error body (not, say, the plain-text
/// 400 of a failed WebSocket upgrade).
fn is_error_body(response: &Value) -> bool {
    let schema = &response["content"]["application/json"]["schema"]["$ref"];
    response.is_null() || schema == "#/components/schemas/ErrorBody"
}

/// The statuses an operation's shape implies.
fn implied_statuses(operation: &Value) -> Vec<&'static str> {
    let mut statuses = vec!["500", "503"];
    let has_params = operation["parameters"]
        .as_array()
        .is_some_and(|p| !p.is_empty());
    if operation.get("requestBody").is_some() {
        statuses.extend(["400", "413", "415"]);
    } else if has_params {
        statuses.push("400");
    }
    if operation.get("security").is_some() {
        statuses.extend(["401", "403"]);
    }
    statuses
}

fn shared_responses() -> Value {
    let mut shared = Map::new();
    for (status, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        });
        if *status == "429" {
            response["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 0}
            }});
        }
        shared.insert((*name).to_owned(), response);
    }
    Value::Object(shared)
}

#[cfg(test)]
mod tests {
    use super::super::spec;

    fn statuses(doc: &serde_json::Value, path: &str, method: &str) -> Vec<String> {
        let responses = doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"));
        responses.keys().cloned().collect()
    }

    #[test]
    fn operations_list_the_errors_their_shape_implies() {
        let doc = spec();
        let send = statuses(&doc, "/api/v1/notifications", "post");
        for status in [
            "201", "400", "401", "403", "413", "415", "422", "429", "500", "503",
        ] {
            assert!(
                send.contains(&status.to_owned()),
                "send lacks {status}: {send:?}"
            );
        }
        let counts = statuses(&doc, "/api/v1/notifications/counts", "get");
        assert_eq!(counts, ["200", "401", "403", "500", "503"]);
        let delete = statuses(&doc, "/api/v1/notifications/{id}", "delete");
        assert_eq!(delete, ["204", "400", "401", "403", "404", "500", "503"]);
        assert_eq!(statuses(&doc, "/metrics", "get"), ["200"]);
    }

    #[test]
    fn error_answers_are_the_shared_objects() {
        let doc = spec();
        let rate_limited = &doc["components"]["responses"]["RateLimited"];
        assert!(rate_limited["headers"]["Retry-After"].is_object());
        let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
        assert_eq!(login["429"]["$ref"], "#/components/responses/RateLimited");
        assert_eq!(login["401"]["$ref"], "#/components/responses/Unauthorized");
    }
}
