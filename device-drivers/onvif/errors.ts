/**
 * What can go wrong talking to a camera, sorted by what the caller does next:
 * network/timeout → the camera may be unreachable (probe it, back off);
 * auth → count it, refresh the clock offset, stop before the account locks;
 * fault → the camera answered and refused (resubscribe, back off);
 * http/parse → the camera answered with something that is not SOAP.
 */
export type OnvifErrorKind = 'network' | 'timeout' | 'aborted' | 'auth' | 'fault' | 'http' | 'parse';

export interface OnvifErrorDetail {
  url: string;
  op: string;
  status?: number;
  code?: string;
  subcode?: string;
  reason?: string;
  /** For network errors: ECONNREFUSED, ECONNRESET, ... */
  errno?: string;
}

export class OnvifError extends Error {
  override readonly name = 'OnvifError';
  constructor(
    readonly kind: OnvifErrorKind,
    message: string,
    readonly detail: OnvifErrorDetail,
  ) {
    super(`ONVIF ${kind}: ${message}`);
  }

  /** The camera answered at the HTTP level (it is reachable even if it refused). */
  get answered(): boolean {
    return this.kind === 'auth' || this.kind === 'fault' || this.kind === 'http' || this.kind === 'parse';
  }

  /** A fault that says the subscription no longer exists on the camera. */
  get subscriptionGone(): boolean {
    const s = `${this.detail.code ?? ''} ${this.detail.subcode ?? ''} ${this.detail.reason ?? ''}`;
    return this.kind === 'fault' && /ResourceUnknown|unknown subscription|no such subscription|InvalidArgVal|not found/i.test(s);
  }

  /** A fault that says the camera holds as many subscriptions as it can. */
  get subscriptionCap(): boolean {
    const s = `${this.detail.code ?? ''} ${this.detail.subcode ?? ''} ${this.detail.reason ?? ''}`;
    return this.kind === 'fault' && /SubscribeCreationFailed|MaxPullPoints|MaxNotificationProducers|maximum number|too many|limit/i.test(s);
  }
}

/** Recover the kind from an error that passed through node-onvif (which re-wraps errors as plain Error text). */
export function kindOf(err: unknown): OnvifErrorKind | null {
  if (err instanceof OnvifError) return err.kind;
  const m = /ONVIF (network|timeout|aborted|auth|fault|http|parse):/.exec(String((err as Error)?.message ?? err));
  return m ? (m[1] as OnvifErrorKind) : null;
}
