/** The site (the estate or village the box serves) and its grids (网格). */
import { z } from 'zod';
import { nameSchema, quote } from './common.ts';

export const SITE_KINDS = ['admin_village', 'natural_village', 'urban_estate', 'organization'] as const;

export const SiteKindSchema = z
  .enum(SITE_KINDS)
  .describe('What the site is: admin_village (行政村), natural_village (自然村), urban_estate (城镇小区), organization (企事业单位).');

export type SiteKind = z.output<typeof SiteKindSchema>;

export const DivisionCodeSchema = z
  .string()
  .superRefine((v, ctx) => {
    if (!/^\d{12}$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: `expected 12 digits (统计用区划代码), got ${quote(v)}` });
    }
  })
  .describe(
    'The 12-digit 统计用区划代码 of the village or community (province 2, city 2, county 2, township 3, village 3 digits), e.g. "320602001001". Write it in quotes.',
  );

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const SiteSchema = z
  .strictObject({
    boxId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{2,63}$/, {
        error: (iss) => `${quote(iss.input)} is not a valid box id: use 3..64 lower-case letters, digits and "-", e.g. "sw-320602-001"`,
      })
      .describe('Identifier of this box, sent upstream with every envelope, e.g. "sw-320602-001" (3..64 of a-z 0-9 -).'),
    name: nameSchema('Name of the site as people say it, e.g. 锦绣花园', 128),
    divisionCode: DivisionCodeSchema,
    kind: SiteKindSchema,
    timezone: z
      .string()
      .default('Asia/Shanghai')
      .superRefine((v, ctx) => {
        if (!isTimeZone(v)) ctx.addIssue({ code: 'custom', message: `${quote(v)} is not an IANA time zone (e.g. "Asia/Shanghai")` });
      })
      .describe('IANA time zone used for schedules and daily/monthly reports (default Asia/Shanghai).'),
  })
  .describe('The site the box serves.');

export type SiteInfo = z.output<typeof SiteSchema>;

export const GridSchema = z
  .strictObject({
    code: z
      .string()
      .regex(/^[0-9A-Za-z][0-9A-Za-z_-]{0,39}$/, {
        error: (iss) => `${quote(iss.input)} is not a valid grid code: 1..40 letters, digits, "-" or "_", e.g. "320602001001-01"`,
      })
      .describe('Grid (网格) code as the county issues it, e.g. "320602001001-01" (1..40 of A-Z a-z 0-9 - _). Unique.'),
    name: nameSchema('Grid name, e.g. 一网格'),
    worker: nameSchema('Grid worker (网格员) responsible for it; optional. Shown on the local panel only.').optional(),
  })
  .describe('One grid (网格), the smallest management cell.');

export type GridConfig = z.output<typeof GridSchema>;

export const GridsSchema = z.array(GridSchema).min(1).describe('Grids (网格) of the site; at least one. Every device names one of them.');
