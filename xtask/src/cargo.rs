//! One `cargo` invocation: its arguments, the environment it adds, how to print and run it.
//!
//! Not an `xshell::Cmd`: a stage's command is printed with the variables it sets (`--list`),
//! which `Cmd` neither shows nor exposes.

/// A `cargo` command line plus the environment variables it sets on top of the inherited ones.
#[derive(Debug, Clone)]
pub struct CargoCmd {
    program: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl CargoCmd {
    /// `cargo` with the whitespace-separated arguments of `args`.
    pub fn new(args: &str) -> Self {
        let args = args.split_whitespace().map(str::to_owned).collect();
        let (program, env) = ("cargo", Vec::new());
        Self { program, args, env }
    }

    /// Runs another cargo binary (e.g. Debian's `/usr/bin/cargo`) instead of the one on `PATH`.
    pub fn program(self, program: &'static str) -> Self {
        Self { program, ..self }
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
    /// `CARGO_ENCODED_RUSTFLAGS` would make cargo ignore `RUSTFLAGS`, so [`CargoCmd::run`] and
    /// [`CargoCmd::read`] clear it for this command (with a warning if it was set).
    pub fn rustflags(self, flags: &str) -> Self {
        let inherited = std::env::var("RUSTFLAGS").unwrap_or_default();
        let combined = format!("{} {flags}", inherited.trim());
        self.env("RUSTFLAGS", combined.trim())
    }

    /// The command as a shell line, e.g. `RUSTFLAGS="-C target-cpu=native" cargo bench`.
    pub fn display(&self) -> String {
        let env = self.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        let words = std::iter::once(self.program.to_owned()).chain(self.args.iter().map(quote));
        env.chain(words).collect::<Vec<_>>().join(" ")
    }

    /// Runs the command in the workspace root with inherited stdout/stderr and no stdin.
    pub fn run(&self) -> anyhow::Result<()> {
        let sh = crate::shell()?;
        Ok(self.cmd(&sh).run()?)
    }

    /// Runs the command like [`CargoCmd::run`] but returns its standard output instead of
    /// printing it; stderr (cargo's messages, a program's progress) still goes to the terminal.
    pub fn read(&self) -> anyhow::Result<String> {
        let sh = crate::shell()?;
        Ok(self.cmd(&sh).read()?)
    }

    /// The command on `sh`, with its environment.
    fn cmd<'a>(&self, sh: &'a xshell::Shell) -> xshell::Cmd<'a> {
        let mut cmd = sh.cmd(self.program).args(&self.args).quiet();
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
        cmd
    }
}

/// Quotes `word` for a POSIX shell when it has characters that need it.
fn quote(word: impl AsRef<str>) -> String {
    let word = word.as_ref();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=+/.,:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_quotes_only_what_needs_it() {
        let cmd = super::CargoCmd::new("doc --target-dir target/sse2")
            .args(["", "a\"b"])
            .env("RUSTDOCFLAGS", "-D warnings");
        let expected = r#"RUSTDOCFLAGS="-D warnings" cargo doc --target-dir target/sse2 "" "a\"b""#;
        assert_eq!(cmd.display(), expected);
    }
}
