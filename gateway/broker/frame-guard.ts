import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes an MQTT byte stream through unchanged while reading each packet's
 * fixed header, and fails as soon as one announces a remaining length above
 * the limit — before the broker would buffer it. aedes has no packet size
 * limit of its own.
 */
export class FrameError extends Error {}

export class FrameGuard extends Transform {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private left = 0;

  constructor(private readonly maxRemainingLength: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.length > this.maxRemainingLength) {
          return done(new FrameError(`MQTT packet of ${this.length} bytes or more exceeds the limit of ${this.maxRemainingLength}`));
        }
        if ((b & 0x80) === 0) {
          this.left = this.length;
          this.state = this.left > 0 ? 'body' : 'type';
        } else if (this.lengthBytes === 4) {
          return done(new FrameError('malformed MQTT remaining length'));
        }
      } else {
        const take = Math.min(this.left, chunk.length - i);
        i += take;
        this.left -= take;
        if (this.left === 0) this.state = 'type';
      }
    }
    done(null, chunk);
  }
}
