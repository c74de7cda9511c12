//! Typed Twilio SIDs: a two-letter prefix plus 32 hex digits, e.g. `IMc0ffee…`.
//!
//! Each kind of SID is its own type, so a conversation SID can never be passed where a
//! message SID is expected. The 128 bits are stored as 16 big-endian bytes (`Copy`, and
//! ordered like the number) rather than a `String`, and rather than a `u128`, whose 16-byte
//! alignment would pad every record holding one: the store keeps millions of them. See
//! <https://www.twilio.com/docs/glossary/what-is-a-sid>.

use std::fmt;
use std::str::FromStr;

use rand::{RngExt, SeedableRng, rngs::StdRng};

/// Why a string is not a SID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid {1} SID")]
pub struct InvalidSid(pub String, pub &'static str);

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// The two letters every SID of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Builds a SID from its 128-bit value.
            pub const fn from_bits(bits: u128) -> Self {
                Self(bits.to_be_bytes())
            }

            /// The 34 ASCII characters, on the stack (for writers that reuse them).
            pub fn to_ascii(self) -> [u8; 34] {
                render($prefix, self.bits()).0
            }

            /// The 128-bit value behind the 32 hex digits.
            pub const fn bits(self) -> u128 {
                u128::from_be_bytes(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(render($prefix, self.bits()).as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl crate::json::Ascii for $name {
            fn write_ascii(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&render($prefix, self.bits()).0);
            }

            fn write_quoted(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&crate::json::quoted::<34, 36>(&render($prefix, self.bits()).0));
            }
        }

        impl FromStr for $name {
            type Err = InvalidSid;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_bits(s, $prefix).map(Self::from_bits).ok_or_else(|| InvalidSid(s.to_owned(), $prefix))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}

sid_type!(
    /// `AC…`: an account, the tenant boundary of the emulator.
    AccountSid,
    "AC"
);
sid_type!(
    /// `SK…`: an API key, which authenticates on behalf of one account.
    ApiKeySid,
    "SK"
);
sid_type!(
    /// `IS…`: a Conversation Service (a "chat service").
    ChatServiceSid,
    "IS"
);
sid_type!(
    /// `MG…`: a Messaging Service, reported on conversations but not emulated.
    MessagingServiceSid,
    "MG"
);
sid_type!(
    /// `CH…`: a conversation.
    ConversationSid,
    "CH"
);
sid_type!(
    /// `IM…`: a message in a conversation.
    MessageSid,
    "IM"
);

sid_type!(
    /// `MB…`: a participant in a conversation.
    ParticipantSid,
    "MB"
);
sid_type!(
    /// `DY…`: a delivery receipt for a message sent to an SMS or WhatsApp participant.
    ReceiptSid,
    "DY"
);
sid_type!(
    /// `ME…`: an uploaded media file (Media Content Service).
    MediaSid,
    "ME"
);
sid_type!(
    /// `HX…`: a Content API template.
    ContentSid,
    "HX"
);
sid_type!(
    /// `CR…`: a push credential of the account.
    CredentialSid,
    "CR"
);
sid_type!(
    /// `RL…`: a role; participants get their service's default role.
    RoleSid,
    "RL"
);
sid_type!(
    /// `WH…`: a conversation-scoped webhook.
    WebhookSid,
    "WH"
);
sid_type!(
    /// `IG…`: an Address Configuration, which routes inbound messages to a number.
    AddressConfigurationSid,
    "IG"
);
sid_type!(
    /// `FW…`: a Studio Flow, named by webhooks but never run by the emulator.
    FlowSid,
    "FW"
);
sid_type!(
    /// `SM…`: the channel message that carries a conversation message over SMS or WhatsApp.
    ChannelMessageSid,
    "SM"
);
sid_type!(
    /// `US…`: a Conversations user, one per identity in a service.
    UserSid,
    "US"
);
sid_type!(
    /// `BS…`: a push binding of a chat user's device.
    BindingSid,
    "BS"
);
sid_type!(
    /// `IN…`: a Chat v2 invitation of a user to a channel.
    InviteSid,
    "IN"
);

/// A SID's 34 ASCII characters, on the stack.
struct Rendered([u8; 34]);

impl Rendered {
    fn as_str(&self) -> &str {
        // Only ASCII letters and hex digits are ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// `prefix` + the 32 lowercase hex digits of `bits` (Twilio prints SIDs in lowercase).
/// By hand rather than `{:032x}`: every message served renders about seven SIDs.
fn render(prefix: &str, bits: u128) -> Rendered {
    let mut out = [b'0'; 34];
    out[..2].copy_from_slice(&prefix.as_bytes()[..2]);
    for (i, byte) in bits.to_be_bytes().into_iter().enumerate() {
        out[2 + 2 * i..4 + 2 * i].copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    Rendered(out)
}

/// The two lowercase hex digits of each byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = [HEX[byte >> 4], HEX[byte & 0x0f]];
        byte += 1;
    }
    table
};

/// Parses `PP` + 32 hex digits (either case, as the spec's patterns allow) into the bits.
/// By table, a byte (two digits) at a time and without a branch per digit: every request
/// parses two or three SIDs, and `u128::from_str_radix` showed in a fetch's profile
/// (BENCHMARKS.md, "hand-parsed SIDs").
fn parse_bits(s: &str, prefix: &str) -> Option<u128> {
    let hex = s.strip_prefix(prefix)?.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    // A digit's value fits in the low nibble; `NOT_HEX` sets the high one.
    let mut high_nibbles = 0u8;
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (HEX_VALUE[usize::from(pair[0])], HEX_VALUE[usize::from(pair[1])]);
        high_nibbles |= high | low;
        *byte = high << 4 | low;
    }
    (high_nibbles & 0xf0 == 0).then(|| u128::from_be_bytes(bytes))
}

const NOT_HEX: u8 = 0xff;

/// The value of each hex digit, by byte; [`NOT_HEX`] for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Whether `s` has the shape of a SID with this prefix, whatever kind that is.
pub fn looks_like_sid(s: &str, prefix: &str) -> bool {
    parse_bits(s, prefix).is_some()
}

/// Source of fresh SIDs: random by default, or a seeded sequence so that tests get the
/// same SIDs on every run.
#[derive(Debug)]
pub struct SidGenerator {
    rng: StdRng,
}

impl SidGenerator {
    /// A generator seeded from the operating system: SIDs differ on every run.
    pub fn random() -> Self {
        Self { rng: rand::make_rng() }
    }

    /// A generator whose sequence is fixed by `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    /// The next 128 random bits, for any kind of SID: `MessageSid::from_bits(gen.next())`.
    pub fn next_bits(&mut self) -> u128 {
        self.rng.random()
    }
}

/// Derives a stable 128-bit value from another, so that an account's default service has
/// the same SID on every run without storing anything (a SplitMix-style finaliser: the
/// output looks random, yet is a fixed function of the input).
pub fn derive_bits(input: u128, salt: u64) -> u128 {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let high = mix((input >> 64) as u64 ^ salt);
    let low = mix(input as u64 ^ high.rotate_left(17) ^ salt);
    (u128::from(high) << 64) | u128::from(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_lowercase_hex() {
        let sid: MessageSid = "IM0123456789ABCDEF0123456789abcdef".parse().unwrap();
        assert_eq!(sid.to_string(), "IM0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn rejects_wrong_prefix_length_and_digits() {
        for bad in [
            "CH0123456789abcdef0123456789abcdef",
            "IM0123456789abcdef0123456789abcde",
            "IM0123456789abcdef0123456789abcdeff",
            "IM0123456789abcdef0123456789abcdeg",
            "IM+123456789abcdef0123456789abcdef",
            "",
        ] {
            assert!(bad.parse::<MessageSid>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn sids_are_compact() {
        assert_eq!(std::mem::size_of::<Option<ParticipantSid>>(), 17);
        assert!(MessageSid::from_bits(1) < MessageSid::from_bits(256), "ordered like the number");
    }

    #[test]
    fn rendering_matches_the_formatter() {
        for bits in [0, 1, u128::MAX, 0x0123_4567_89ab_cdef_0011_2233_4455_6677, 1 << 127] {
            assert_eq!(MessageSid::from_bits(bits).to_string(), format!("IM{bits:032x}"));
        }
    }

    #[test]
    fn small_values_keep_all_32_digits() {
        assert_eq!(ConversationSid::from_bits(1).to_string(), format!("CH{}1", "0".repeat(31)));
    }

    #[test]
    fn seeded_generators_repeat_their_sequence() {
        let (mut a, mut b) = (SidGenerator::seeded(7), SidGenerator::seeded(7));
        let first: Vec<u128> = (0..4).map(|_| a.next_bits()).collect();
        let second: Vec<u128> = (0..4).map(|_| b.next_bits()).collect();
        assert_eq!(first, second);
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn derived_bits_are_stable_and_spread() {
        assert_eq!(derive_bits(42, 1), derive_bits(42, 1));
        assert_ne!(derive_bits(42, 1), derive_bits(43, 1));
        assert_ne!(derive_bits(42, 1), derive_bits(42, 2));
    }
}
