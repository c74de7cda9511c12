//! Arbitrary text parsed as every kind of SID: what parses prints back as itself.
//! The check is `twilio_conversations_emulator::fuzzing::sids`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    twilio_conversations_emulator::fuzzing::sids(text);
});
