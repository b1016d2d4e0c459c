/**
 * The shape of a mapping profile: how a third-party bridge's topics and payloads
 * become DeviceEvents. Profiles are data; ./engine.ts is the one engine for all.
 */
import type { EventAttrs, EventKind } from '../../../gateway/core/events.ts';
import type { MappingProfile } from '../../../config/schema.ts';

export type FieldValue = string | number | boolean;

/** One row: one field (or one value of a field) and the event it becomes. */
export type ProfileRow = {
  [K in EventKind]: {
    /** Field of the decoded payload (for plain-text payloads, the profile's `text.field`). */
    field: string;
    kind: K;
    attrs: EventAttrs<K>;
    /** attrs copied from other fields of the same payload when present and valid: attr → field. */
    attrsFrom?: Partial<Record<keyof EventAttrs<K>, string>>;
    /** Where inside the device, e.g. a zone number. */
    source?: string;
    /** Values that start the condition (active: true). */
    activeWhen: readonly FieldValue[];
    /** Values that end it. Any other value (or the field missing) leaves it as it was. */
    inactiveWhen?: readonly FieldValue[];
    /** Emit active: false when it ends (default true). false for edge-only events such as `armed`. */
    restore?: boolean;
    /**
     * Every message carrying an active value is a new event (a button press), not
     * compared with the last one: the bridge does not keep such fields in its state.
     */
    momentary?: boolean;
  };
}[EventKind];

export interface Profile {
  name: MappingProfile;
  /** How a payload becomes fields: a JSON object, or plain text put under one field. */
  payload: { format: 'json' } | { format: 'text'; field: string; values: readonly string[]; what: string };
  /** Device topics are `<baseTopic>/<sourceName><topicSuffix>`. */
  topicSuffix: string;
  /** Topics below the base topic (without it) that carry no device data: ignored, not errors. */
  ignore: readonly RegExp[];
  rows: readonly ProfileRow[];
}
