# syntax=docker/dockerfile:1
#
# A small image of the emulator:
#   docker build -t twilio-conversations-emulator .
#   docker run -p 4747:4747 twilio-conversations-emulator

# --- Build -------------------------------------------------------------------------------
# Bookworm, so that the binary's glibc matches the Debian 12 runtime below.
FROM rust:1-slim-bookworm AS builder
WORKDIR /build
# Strip symbols: the image only needs the binary to run, not to be debugged.
ENV CARGO_PROFILE_RELEASE_STRIP=true

# Build the dependencies against placeholder sources first, so that this layer stays
# cached until Cargo.toml or Cargo.lock change. Cargo reads every target that Cargo.toml
# declares, even those it does not build, so each gets a placeholder: the library, the
# binary and the `load` bench. The bench's stays, as the image never builds the bench.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches/load \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/load/main.rs \
 && cargo build --release --locked \
 && rm -rf src

# Then the crate itself. `touch` makes the real sources newer than the placeholder build,
# whatever timestamps COPY gives them.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/twilio-conversations-emulator /usr/local/bin/

# --- Run ---------------------------------------------------------------------------------
# The binary links only glibc, libm and libgcc_s (no OpenSSL), which distroless/cc has.
# The :nonroot tag runs as uid 65532 and has no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/twilio-conversations-emulator /usr/local/bin/twilio-conversations-emulator
# Numeric, so that Kubernetes' runAsNonRoot can check it without an /etc/passwd lookup
# (65532 is distroless's `nonroot`).
USER 65532:65532
# Listen on every interface so that `docker run -p` reaches the server. The healthcheck
# reads the same variables, so it probes the same port.
ENV TWILIO_EMULATOR_HOST=0.0.0.0 \
    TWILIO_EMULATOR_PORT=4747
EXPOSE 4747
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s \
  CMD ["/usr/local/bin/twilio-conversations-emulator", "healthcheck"]
# Exec form: the emulator is PID 1 and gets `docker stop`'s SIGTERM, on which it shuts
# down gracefully.
ENTRYPOINT ["/usr/local/bin/twilio-conversations-emulator"]
