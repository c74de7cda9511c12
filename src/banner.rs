//! The start-up banner: what is listening where, and how it is set up, printed once on
//! stdout. Its first line, `listening on http://ADDR`, is the readiness line scripts and
//! test helpers wait for (the socket is bound and the state loaded before it is printed),
//! so it stays first and unchanged; the rest is one indented `label  value` line per
//! entry of [`describe`], the one place a new line (a proxy's CA, the inspector) goes.

use std::fmt::Write;
use std::net::SocketAddr;

use crate::config::{Config, StateSync};

/// One line of the banner after the first: a label and what it says.
pub type Line = (&'static str, String);

/// The banner's lines for `config`, after the readiness line.
pub fn describe(config: &Config) -> Vec<Line> {
    vec![
        ("version", format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))),
        ("auth", auth(config)),
        ("state", state(config)),
        ("control plane", control_plane(config)),
    ]
}

/// The whole banner: the readiness line, then each of `lines` with its labels aligned.
pub fn render(address: SocketAddr, lines: &[Line]) -> String {
    let mut banner = format!("listening on http://{address}\n");
    let width = lines.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in lines {
        // Writing into a `String` cannot fail.
        let _ = writeln!(banner, "  {label:width$}  {value}");
    }
    banner
}

fn auth(config: &Config) -> String {
    let keys = match config.api_keys.len() {
        0 => String::new(),
        1 => ", 1 API key".to_owned(),
        n => format!(", {n} API keys"),
    };
    match config.accounts.len() {
        0 => format!("permissive: any account SID and auth token are accepted{keys}"),
        1 => format!("strict: 1 account (--accounts){keys}"),
        n => format!("strict: {n} accounts (--accounts){keys}"),
    }
}

fn state(config: &Config) -> String {
    let seeded = config.seed_file.as_ref().map(|seed| format!(", seeded from {}", seed.display()));
    let kept = match &config.state_file {
        None => "in memory (lost at exit)".to_owned(),
        Some(path) => {
            let sync = match config.state_sync {
                StateSync::Never => "never synced by the emulator",
                StateSync::Always => "synced before every answer",
            };
            format!("state file {} ({sync})", path.display())
        }
    };
    kept + seeded.as_deref().unwrap_or("")
}

fn control_plane(config: &Config) -> String {
    match (&config.control_token, config.no_control) {
        (_, true) => "off (--no-control); /_emulator/health still answers".to_owned(),
        (Some(_), false) => "on at /_emulator/, protected by a token (--control-token)".to_owned(),
        (None, false) => "on at /_emulator/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readiness_line_comes_first_and_labels_are_aligned() {
        let lines = [("a", "one".to_owned()), ("longer", "two".to_owned())];
        let banner = render(SocketAddr::from(([127, 0, 0, 1], 4747)), &lines);
        assert_eq!(banner, "listening on http://127.0.0.1:4747\n  a       one\n  longer  two\n");
    }
}
