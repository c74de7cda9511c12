//! Arbitrary bytes imported as a state document: refused without a trace, or exported to a
//! document that imports to the same state (`twilio_conversations_emulator::fuzzing::state_document`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    twilio_conversations_emulator::fuzzing::state_document(data);
});
