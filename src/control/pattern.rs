//! Path globs, shared by fault rules and journal filters: `*` matches any run of characters
//! within one path segment, and `**` as a whole segment matches any number of segments
//! (zero included), so `/v1/Conversations/*/Messages` names every conversation's messages
//! and `/v1/**` everything under `/v1`.
//!
//! Matching walks the pattern and the path side by side without allocating, because fault
//! rules are checked on every Twilio request.

use std::fmt;
use std::str::FromStr;

/// The longest pattern accepted: far above any Twilio path, and small enough that a
/// pathological pattern (many `**`) cannot make matching expensive.
const MAX_PATTERN_LEN: usize = 512;

/// A compiled path glob.
#[derive(Clone, PartialEq, Eq)]
pub struct PathPattern {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    AnyDepth,
    /// A segment in which `*` matches any characters (but never a `/`).
    Glob(String),
}

/// Why a string is not a usable path pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("`{0}` does not start with `/`")]
    NotAbsolute(String),
    #[error("`{0}` uses `**` inside a segment; `**` must be a whole segment, as in `/v1/**`")]
    PartialDoubleStar(String),
    #[error("the pattern is longer than {MAX_PATTERN_LEN} characters")]
    TooLong,
}

impl FromStr for PathPattern {
    type Err = PatternError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        if source.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong);
        }
        let relative = source.strip_prefix('/').ok_or_else(|| PatternError::NotAbsolute(source.to_owned()))?;
        let segments = relative
            .split('/')
            .map(|segment| match segment {
                "**" => Ok(Segment::AnyDepth),
                glob if glob.contains("**") => Err(PatternError::PartialDoubleStar(source.to_owned())),
                glob => Ok(Segment::Glob(glob.to_owned())),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { source: source.to_owned(), segments })
    }
}

impl PathPattern {
    /// Whether `path` (a request path, without its query) matches.
    pub fn is_match(&self, path: &str) -> bool {
        path.strip_prefix('/').is_some_and(|relative| match_segments(&self.segments, Some(relative)))
    }

    /// The pattern as it was written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `text` contains glob syntax at all (a journal filter without any is a plain
    /// substring search).
    pub fn is_glob(text: &str) -> bool {
        text.contains('*')
    }
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PathPattern").field(&self.source).finish()
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Matches `pattern` against the rest of a path. `path` is the remaining segments joined by
/// `/` (`Some("")` is one empty segment, as in `/`), or `None` once every segment is used.
fn match_segments(pattern: &[Segment], path: Option<&str>) -> bool {
    match pattern.split_first() {
        None => path.is_none(),
        Some((Segment::AnyDepth, rest)) => {
            // Try `**` as zero segments, then one, two… until the path runs out.
            let mut remaining = path;
            loop {
                if match_segments(rest, remaining) {
                    return true;
                }
                match remaining {
                    None => return false,
                    Some(segments) => remaining = segments.split_once('/').map(|(_, tail)| tail),
                }
            }
        }
        Some((Segment::Glob(glob), rest)) => {
            let Some(segments) = path else {
                return false;
            };
            let (head, tail) = match segments.split_once('/') {
                Some((head, tail)) => (head, Some(tail)),
                None => (segments, None),
            };
            match_wildcards(glob.as_bytes(), head.as_bytes()) && match_segments(rest, tail)
        }
    }
}

/// Matches one segment against a glob whose only wildcard is `*`. Linear-time greedy
/// matching: on a mismatch, the last `*` absorbs one more character and matching resumes.
fn match_wildcards(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    // The position of the last `*` seen, and the text position it was tried at.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some(b'*') => {
                backtrack = Some((g, t));
                g += 1;
            }
            Some(&byte) if byte == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, tried)) => {
                    g = star + 1;
                    t = tried + 1;
                    backtrack = Some((star, tried + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&byte| byte == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(source: &str) -> PathPattern {
        source.parse().expect("valid pattern")
    }

    #[test]
    fn star_matches_within_one_segment_only() {
        let messages = pattern("/v1/Conversations/*/Messages");
        assert!(messages.is_match("/v1/Conversations/CH123/Messages"));
        assert!(messages.is_match("/v1/Conversations/my-name/Messages"));
        assert!(!messages.is_match("/v1/Conversations/CH1/Messages/IM1"));
        assert!(!messages.is_match("/v1/Conversations/a/b/Messages"));
        assert!(!messages.is_match("/v1/Conversations/Messages"));
        let prefixed = pattern("/v1/Conversations/CH*");
        assert!(prefixed.is_match("/v1/Conversations/CH1"));
        assert!(!prefixed.is_match("/v1/Conversations/XY1"));
        assert!(pattern("/v1/*a*b").is_match("/v1/xxaxxb"));
        assert!(!pattern("/v1/*a*b").is_match("/v1/xxbxxa"));
    }

    #[test]
    fn double_star_spans_any_number_of_segments() {
        let everything = pattern("/**");
        assert!(everything.is_match("/"));
        assert!(everything.is_match("/v1/Conversations/CH1/Messages"));
        let under_v1 = pattern("/v1/**");
        assert!(under_v1.is_match("/v1"));
        assert!(under_v1.is_match("/v1/Services/IS1"));
        assert!(!under_v1.is_match("/v2/Services"));
        let any_messages = pattern("/**/Messages");
        assert!(any_messages.is_match("/v1/Conversations/CH1/Messages"));
        assert!(any_messages.is_match("/v1/Services/IS1/Conversations/CH1/Messages"));
        assert!(!any_messages.is_match("/v1/Conversations/CH1/Messages/IM1"));
    }

    #[test]
    fn literal_patterns_match_exactly() {
        let conversations = pattern("/v1/Conversations");
        assert!(conversations.is_match("/v1/Conversations"));
        assert!(!conversations.is_match("/v1/Conversations/"));
        assert!(!conversations.is_match("/v1/conversations"));
        assert!(!conversations.is_match("v1/Conversations"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        let cases = [
            ("v1/Conversations", "relative"),
            ("/v1/Conv**", "partial **"),
            ("/v1/**x/Messages", "partial ** at the start of a segment"),
        ];
        for (source, why) in cases {
            assert!(source.parse::<PathPattern>().is_err(), "{why}: {source}");
        }
        assert_eq!(format!("/{}", "a".repeat(MAX_PATTERN_LEN)).parse::<PathPattern>(), Err(PatternError::TooLong));
    }
}
