//! SQL text both backends share: their tables have the same columns, so a list
//! of columns is written once.

/// The columns every user query selects from the table aliased `table`, in the
/// order each backend's `user_from_row` reads them.
pub(crate) fn user_columns(table: &str) -> String {
    [
        "id",
        "username",
        "display_name",
        "role",
        "disabled",
        "created_at",
    ]
    .map(|column| format!("{table}.{column}"))
    .join(", ")
}
