/**
 * The pull API's shapes, once: zod schemas from which the route JSON schemas
 * (request validation, response serialization) and the OpenAPI document are
 * generated.
 */
import { z } from 'zod';
import { ALARM_CATEGORIES, ALARM_STATUSES, ALARM_ACTIONS } from '../../gateway/core/alarm.ts';
import { COUNTY_STATUSES } from '../../gateway/core/county.ts';
import { LANES, eventKinds } from '../../gateway/core/events.ts';

const ms = (what: string) => z.number().int().describe(`${what} (epoch milliseconds)`);
const cursor = z
  .string()
  .regex(/^\d{1,16}$/)
  .describe('An opaque position in a stream (decimal digits). Pass back the nextCursor you were given.');

export const ErrorSchema = z.object({ error: z.string(), message: z.string() }).describe('What went wrong and what to do.');

export const AlarmSchema = z
  .object({
    id: z.string(),
    changeSeq: z.number().int().describe("Position of this alarm's latest change in the alarms stream"),
    rule: z.string(),
    level: z.number().int().min(1).max(3).describe('三级预警: 1 is the most urgent'),
    category: z.enum(ALARM_CATEGORIES).describe('public_order 治安, fire 消防, device_fault 设备故障, help 求助, hazard 安全隐患'),
    title: z.string(),
    status: z.enum(ALARM_STATUSES).describe('new, accepted 受理, dispatched 交办/处置, resolved 办结, false_alarm 误报'),
    deviceId: z.string().nullable(),
    grid: z.string().nullable(),
    openedAt: ms('When it was opened'),
    updatedAt: ms('Its latest change'),
    acceptBy: ms('受理 deadline').nullable(),
    closeBy: ms('办结 deadline').nullable(),
    escalated: z.boolean().describe('上报'),
    overdue: z.boolean().describe('超时'),
    count: z.number().int().describe('How many times the condition repeated while open'),
    evidence: z.array(z.string()).describe('Event ids'),
    snapshots: z.array(z.string()).describe('Snapshot ids: GET /alarms/{id}/evidence/{snapshotId}'),
    countyStatus: z.string().nullable().describe("The county's last write-back step (交办/督办/办结/评价)"),
  })
  .describe('An alarm (警情) as it is now.');

export const HistoryEntrySchema = z.object({
  at: ms('When'),
  action: z.enum(ALARM_ACTIONS),
  actor: z.string().describe("A user, 'rule:<id>', 'county' or 'system'"),
  from: z.enum(ALARM_STATUSES).nullable(),
  to: z.enum(ALARM_STATUSES),
  note: z.string().optional(),
});

export const PlaceSchema = z.object({ building: z.string().optional(), unit: z.string().optional(), point: z.string() });

export const EventSchema = z
  .object({
    eventId: z.string(),
    eventSeq: z.number().int().describe('Position in the events stream'),
    kind: z.enum(eventKinds as [string, ...string[]]),
    lane: z.enum(LANES),
    active: z.boolean(),
    deviceId: z.string(),
    gbId: z.string().nullable(),
    grid: z.string().nullable(),
    place: PlaceSchema.nullable(),
    source: z.string().nullable(),
    deviceTime: ms("The device's time").nullable(),
    receivedAt: ms("The box's receive time"),
    clockTrusted: z.boolean().describe('Whether deviceTime can be believed'),
    attrs: z.record(z.string(), z.unknown()).describe('Per-kind attributes'),
  })
  .describe('A device event, as the push `event` envelope carries it.');

export const feedQuery = {
  cursor: cursor.optional().describe('Return entries after this position; omitted: after your committed cursor (POST /acks), or from the start'),
  limit: z.number().int().min(1).max(1000).default(100).describe('At most this many items (1..1000, default 100)'),
  wait: z.number().int().min(0).max(120).default(0).describe('Long-poll: when nothing is there, wait up to this many seconds for something new'),
};

const list = (values: readonly string[]) => z.string().regex(new RegExp(`^(${values.join('|')})(,(${values.join('|')}))*$`));

export const AlarmsQuery = z
  .object({
    ...feedQuery,
    status: list(ALARM_STATUSES)
      .optional()
      .describe(`Only these statuses, comma-separated (${ALARM_STATUSES.join(', ')})`),
    minLevel: z.number().int().min(1).max(3).optional().describe('Only this level and more urgent: 2 returns levels 1 and 2'),
    category: list(ALARM_CATEGORIES)
      .optional()
      .describe(`Only these categories, comma-separated (${ALARM_CATEGORIES.join(', ')})`),
    grid: z.string().max(40).optional().describe('Only this grid (网格) code'),
  })
  .strict();

export const EventsQuery = z
  .object({
    ...feedQuery,
    kind: list(eventKinds).optional().describe('Only these kinds, comma-separated (default: the kinds the box forwards upstream)'),
    grid: z.string().max(40).optional().describe('Only this grid (网格) code'),
    lane: z.enum(LANES).optional().describe('Only this lane: alarm, record or status'),
  })
  .strict();

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: cursor.describe('Ask with this next time; commit it with POST /acks once the items are safely stored'),
    head: cursor.describe('The newest position that exists now'),
  });

export const AlarmPage = page(AlarmSchema);
export const EventPage = page(EventSchema);

export const AlarmDetail = z.object({ alarm: AlarmSchema, history: z.array(HistoryEntrySchema) });

export const AckBody = z
  .object({
    stream: z.enum(['alarms', 'events']),
    cursor: cursor.describe('A nextCursor the API returned, up to which you have stored everything'),
  })
  .strict();

export const CursorSchema = z.object({ stream: z.enum(['alarms', 'events']), cursor, updatedAt: ms('When it was committed') });
export const CursorsSchema = z.object({ consumer: z.string(), cursors: z.array(CursorSchema) });

export const StatusBody = z
  .object({
    status: z.enum(COUNTY_STATUSES).describe('交办 (assigned), 督办 (supervised), 办结 (closed), 评价 (evaluated)'),
    note: z.string().max(500).default('').describe('What the county says (shown on the panel and in the history)'),
    operator: z.string().min(1).max(64).optional().describe("Who at the county, as the county's system names them"),
    rating: z.number().int().min(1).max(5).optional().describe('评价 only: 1..5'),
    requestId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/)
      .optional()
      .describe('Idempotency key: a retried request with the same key is applied once'),
  })
  .strict();

export const StatusResult = z.object({ alarm: AlarmSchema, duplicate: z.boolean().describe('true when this requestId was applied before') });

export const DeviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  grid: z.string(),
  place: PlaceSchema,
  pointType: z.string().describe('gate 出入口, perimeter 周界, entrance 楼栋/车库入口, intersection 路口, public_area 公共区域'),
  gbId: z.string().nullable().describe('GB/T 28181 20-digit id, as the county issued it'),
  enabled: z.boolean(),
  online: z.boolean().nullable().describe('null: no driver has spoken for it yet'),
  eventChannel: z.enum(['alive', 'lost', 'n/a']).describe("Whether its event stream works ('n/a' for devices that push)"),
  lastSeen: ms('Last heard from').nullable(),
  uptime: z.object({
    last24h: z.number().nullable().describe('Share of observed time online, 0..1'),
    last30d: z.number().nullable(),
  }),
});
export const DevicesSchema = z.object({ items: z.array(DeviceSchema) });

const pointCounts = z.object({ cameras: z.number().int(), intersectionCameras: z.number().int(), onlineCameras: z.number().int() });
export const CoverageSchema = z.object({
  site: z.object({ name: z.string(), divisionCode: z.string(), kind: z.string() }),
  rule: z
    .object({
      text: z.string(),
      counts: z.enum(['camera_points', 'intersection_camera_points']),
      required: z.number().int(),
    })
    .nullable()
    .describe('The point rule for this kind of site; null when none applies (城镇小区, 企事业单位)'),
  total: pointCounts.extend({ byPoint: z.record(z.string(), z.number().int()) }),
  compliant: z.boolean().nullable().describe('The configured points meet the rule'),
  compliantOnline: z.boolean().nullable().describe('The points online now meet the rule'),
  missing: z.number().int().nullable().describe('Points still needed'),
  grids: z.array(pointCounts.extend({ grid: z.string(), name: z.string(), byPoint: z.record(z.string(), z.number().int()) })),
  villages: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        intersectionCameras: z.number().int(),
        onlineIntersectionCameras: z.number().int(),
        required: z.number().int(),
        compliant: z.boolean(),
      }),
    )
    .describe('The natural villages (自然村) the installer recorded, each against 2 cameras at its main intersections'),
  problems: z.array(z.string()).describe('Why the configured points miss the rule, one line each (empty when compliant or no rule applies)'),
});

export const StatsQuery = z
  .object({
    from: z.string().max(40).optional().describe('Start (ISO 8601 or epoch ms; default 30 days ago)'),
    to: z.string().max(40).optional().describe('End, exclusive (ISO 8601 or epoch ms; default now)'),
  })
  .strict();

const figures = z.object({
  from: ms('Start'),
  to: ms('End'),
  reported: z.number().int().describe('上报数'),
  accepted: z.number().int().describe('受理数'),
  closed: z.number().int().describe('办结数 (resolved or false alarm)'),
  falseAlarms: z.number().int().describe('误报'),
  closureRate: z.number().nullable().describe('办结率: closed / reported'),
  meanTimeToAcceptSeconds: z.number().nullable(),
  meanTimeToCloseSeconds: z.number().nullable(),
  overdue: z.number().int().describe('超时'),
});
export const StatsSchema = z.object({
  total: figures,
  byCategory: z.array(figures.extend({ category: z.enum(ALARM_CATEGORIES) })),
  byGrid: z.array(figures.extend({ grid: z.string().nullable() })),
});

/** A zod schema as the JSON schema fastify validates with and serializes by. */
export function json(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
