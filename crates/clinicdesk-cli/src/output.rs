//! How results reach the terminal: JSON for scripts (`--json`), or lines for people.

pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as JSON with `--json`, else the text `human` makes.
    pub(crate) fn value(&self, value: serde_json::Value, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        } else {
            println!("{}", human());
        }
    }
}
