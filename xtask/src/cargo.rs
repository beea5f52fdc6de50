//! One `cargo` invocation: its arguments, the environment it adds, how to print and run it.

/// A `cargo` command line plus the environment variables it sets on top of the inherited ones.
#[derive(Debug, Clone)]
pub struct CargoCmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl CargoCmd {
    /// `cargo` with the whitespace-separated arguments of `args`.
    pub fn new(args: &str) -> Self {
        Self {
            program: "cargo".to_owned(),
            args: args.split_whitespace().map(str::to_owned).collect(),
            env: Vec::new(),
        }
    }

    /// Runs another cargo binary (e.g. Debian's `/usr/bin/cargo`) instead of the one on `PATH`.
    pub fn program(mut self, program: &str) -> Self {
        self.program = program.to_owned();
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for this command.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Adds `flags` to the `RUSTFLAGS` inherited from the environment (after them, so they win).
    ///
    /// `CARGO_ENCODED_RUSTFLAGS` would make cargo ignore `RUSTFLAGS`, so [`CargoCmd::run`]
    /// clears it for this command (with a warning if it was set).
    pub fn rustflags(self, flags: &str) -> Self {
        let inherited = std::env::var("RUSTFLAGS").unwrap_or_default();
        let combined = format!("{} {flags}", inherited.trim());
        self.env("RUSTFLAGS", combined.trim())
    }

    /// The command as a shell line, e.g. `RUSTFLAGS="-C target-cpu=native" cargo bench`.
    pub fn display(&self) -> String {
        let env = self.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        let words = std::iter::once(self.program.clone()).chain(self.args.iter().map(|a| quote(a)));
        env.chain(words).collect::<Vec<_>>().join(" ")
    }

    /// Runs the command in the workspace root with inherited stdout/stderr and no stdin.
    pub fn run(&self) -> anyhow::Result<()> {
        let sh = crate::shell()?;
        let mut cmd = sh.cmd(&self.program).args(&self.args).quiet();
        for (key, value) in &self.env {
            cmd = cmd.env(key, value);
        }
        if self.env.iter().any(|(k, _)| k == "RUSTFLAGS") {
            if std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some_and(|v| !v.is_empty()) {
                eprintln!(
                    "warning: ignoring CARGO_ENCODED_RUSTFLAGS for this command (it would \
                     override the RUSTFLAGS it needs)"
                );
            }
            cmd = cmd.env_remove("CARGO_ENCODED_RUSTFLAGS");
        }
        Ok(cmd.run()?)
    }
}

/// Quotes `word` for a POSIX shell when it has characters that need it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+/.,:@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_env_and_args() {
        let cmd = CargoCmd::new("doc -p focal-loss").env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            cmd.display(),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc -p focal-loss"
        );
    }

    #[test]
    fn quote_leaves_plain_words() {
        assert_eq!(quote("--target-dir"), "--target-dir");
        assert_eq!(quote("target/sse2"), "target/sse2");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
