/**
 * dpop/: stateless server nonces (RFC 9449 §9): an HMAC-SHA-256 of the time step under a
 * shared secret, so every instance of a fleet issues and accepts the same nonces.
 */
import { base64url } from 'jose';

/** Whether a nonce is accepted, and if so whether it is the newest. */
export type NonceCheck = 'current' | 'previous' | 'invalid';

/**
 * Nonces that change every `lifetimeSeconds`; the current and the previous one are
 * accepted, so a nonce handed out lives between one and two lifetimes.
 */
export class DpopNonces {
  private key: Promise<CryptoKey> | undefined;
  /** The nonce of the latest steps asked for: at most three are kept. */
  private readonly byStep = new Map<number, Promise<string>>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly lifetimeSeconds: number,
    private readonly now: () => number,
  ) {}

  private step(): number {
    return Math.floor(this.now() / 1000 / this.lifetimeSeconds);
  }

  private nonceAt(step: number): Promise<string> {
    let nonce = this.byStep.get(step);
    if (nonce === undefined) {
      this.key ??= crypto.subtle.importKey(
        'raw',
        this.secret as Uint8Array<ArrayBuffer>,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign'],
      );
      const input = new TextEncoder().encode(`oauth-jwt-verify DPoP nonce ${step}`);
      nonce = this.key
        .then((key) => crypto.subtle.sign('HMAC', key, input))
        .then((mac) => base64url.encode(new Uint8Array(mac)));
      if (this.byStep.size >= 3) this.byStep.delete(this.byStep.keys().next().value!);
      this.byStep.set(step, nonce);
    }
    return nonce;
  }

  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): Promise<string> {
    return this.nonceAt(this.step());
  }

  /** Whether `value` is the current nonce, the previous one, or neither. */
  async check(value: unknown): Promise<NonceCheck> {
    if (typeof value !== 'string') return 'invalid';
    const step = this.step();
    if (value === (await this.nonceAt(step))) return 'current';
    if (value === (await this.nonceAt(step - 1))) return 'previous';
    return 'invalid';
  }
}
