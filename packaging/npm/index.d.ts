// Types for the test helpers (index.js). The `twilio` client type is the SDK's own.
import type { Twilio } from "twilio";

/** The hosts the emulator serves (Conversations, Chat, Media; any edge and region). */
export const TWILIO_HOSTS: RegExp;

/** The emulator binary for this platform, or $TWILIO_EMULATOR_BINARY. */
export function binaryPath(): string;

/** A fresh account SID ("AC" + 32 hex digits): an empty tenant of its own. */
export function newAccountSid(): string;

/** A twilio RequestClient that sends the emulated hosts' requests to `baseUrl`. */
export function emulatorRequestClient(twilio: unknown, baseUrl: string, options?: object): unknown;

export interface ClientOptions {
  accountSid?: string;
  authToken?: string;
  /** The twilio package to build the client with (default: require("twilio")). */
  twilio?: unknown;
  [option: string]: unknown;
}

/** A running emulator. */
export class Emulator {
  constructor(url: string);
  /** The base URL, such as http://127.0.0.1:41234. */
  readonly url: string;
  stop(): Promise<void>;
  control(method: string, pathAndQuery: string, body?: unknown): Promise<unknown>;
  reset(accountSid?: string): Promise<void>;
  health(): Promise<{ status: string; version: string; uptime_seconds: number }>;
  client(options?: ClientOptions): Twilio;
}

export interface StartOptions {
  binary?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts the emulator on 127.0.0.1 and a free port. */
export function startEmulator(options?: StartOptions): Promise<Emulator>;

export interface Hooks {
  before(fn: () => unknown): unknown;
  after(fn: () => unknown): unknown;
  beforeEach(fn: () => unknown): unknown;
}

export interface EmulatorContext {
  emulator: Emulator;
  accountSid: string;
  authToken: string;
  client: Twilio;
}

/** Registers suite hooks: one emulator per file, a fresh account and client per test. */
export function useEmulator(options?: StartOptions & { hooks?: Hooks }): EmulatorContext;
