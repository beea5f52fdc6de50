//! One `cargo` invocation: its arguments, the environment it adds, how to print and run it.

use std::path::Path;
use std::process::{Command, Stdio};

/// A `cargo` command line plus the environment variables it sets on top of the inherited ones.
#[derive(Debug, Clone)]
pub struct CargoCmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl CargoCmd {
    /// `cargo <args...>` with the inherited environment.
    pub fn new(args: &[&str]) -> Self {
        Self {
            program: "cargo".to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
        }
    }

    /// Runs another cargo binary (e.g. Debian's `/usr/bin/cargo`) instead of the one on `PATH`.
    pub fn program(mut self, program: &str) -> Self {
        self.program = program.to_owned();
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
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
    /// `CARGO_ENCODED_RUSTFLAGS` would make cargo ignore `RUSTFLAGS`, so it is cleared for this
    /// command (see [`CargoCmd::run`]) and a warning is printed if it was set.
    pub fn rustflags(self, flags: &str) -> Self {
        let inherited = std::env::var("RUSTFLAGS").unwrap_or_default();
        let combined = format!("{} {flags}", inherited.trim());
        self.env("RUSTFLAGS", combined.trim())
    }

    /// Whether this command sets `RUSTFLAGS` itself.
    fn sets_rustflags(&self) -> bool {
        self.env.iter().any(|(k, _)| k == "RUSTFLAGS")
    }

    /// The command as a shell line, e.g. `RUSTFLAGS="-C target-cpu=native" cargo bench`.
    pub fn display(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        words.push(self.program.clone());
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        words.join(" ")
    }

    /// Runs the command in `dir` with inherited stdout/stderr and no stdin.
    ///
    /// Returns a message naming the command when it cannot start or exits unsuccessfully.
    pub fn run(&self, dir: &Path) -> Result<(), String> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(dir)
            .stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if self.sets_rustflags() {
            warn_if_encoded_rustflags();
            command.env_remove("CARGO_ENCODED_RUSTFLAGS");
        }
        let status = command
            .status()
            .map_err(|e| format!("could not start `{}`: {e}", self.program))?;
        if status.success() {
            return Ok(());
        }
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was terminated by a signal".to_owned(),
        };
        Err(format!("`{}` {how}", self.display()))
    }
}

/// Warns that an inherited `CARGO_ENCODED_RUSTFLAGS` is being dropped for a command.
fn warn_if_encoded_rustflags() {
    if std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "warning: ignoring CARGO_ENCODED_RUSTFLAGS for this command (it would override \
             the RUSTFLAGS it needs)"
        );
    }
}

/// Quotes `word` for a POSIX shell when it has characters that need it.
fn shell_quote(word: &str) -> String {
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
        let cmd = CargoCmd::new(&["doc", "-p", "focal-loss"]).env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            cmd.display(),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc -p focal-loss"
        );
    }

    #[test]
    fn quote_leaves_plain_words() {
        assert_eq!(shell_quote("--target-dir"), "--target-dir");
        assert_eq!(shell_quote("target/sse2"), "target/sse2");
        assert_eq!(shell_quote(""), "\"\"");
        assert_eq!(shell_quote("a\"b"), "\"a\\\"b\"");
    }
}
