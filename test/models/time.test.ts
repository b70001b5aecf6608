import { describe, expect, it } from 'vitest';
import { canonicalInstant, parseInstant, parseWindow, planWindow } from '../../src/models/time.ts';

const iso = (s: string) => {
  const p = parseInstant(s);
  return p && new Date(p.ms).toISOString();
};

describe('parseInstant', () => {
  it('reads a zone-less date-time as UTC', () => {
    expect(iso('2026-01-05T09:30:00')).toBe('2026-01-05T09:30:00.000Z');
    expect(iso('2026-01-05 09:30')).toBe('2026-01-05T09:30:00.000Z');
  });
  it('applies offsets', () => {
    expect(iso('2026-01-05T09:30:00+02:00')).toBe('2026-01-05T07:30:00.000Z');
    expect(iso('2026-01-05T23:30:00-0130')).toBe('2026-01-06T01:00:00.000Z');
    expect(iso('2026-01-05T09:30:00.123456Z')).toBe('2026-01-05T09:30:00.123Z');
  });
  it('marks bare dates', () => {
    expect(parseInstant('2026-01-05')).toEqual({ ms: Date.UTC(2026, 0, 5), dateOnly: true });
  });
  it('rejects impossible and malformed values', () => {
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-01-05T24:00:00Z',
      'yesterday',
      '',
      '2026-1-5',
      '1969-12-31T23:59:59Z',
      '2026-01-05T10:00:00+25:00',
    ]) {
      expect(parseInstant(bad), bad).toBeUndefined();
    }
  });
});

describe('parseWindow', () => {
  it('includes the whole UTC day of a date-only `to`', () => {
    expect(parseWindow('2026-01-05', '2026-01-06')).toEqual({
      ok: true,
      window: { from: '2026-01-05T00:00:00.000Z', to: '2026-01-07T00:00:00.000Z' },
    });
  });
  it('keeps a date-time `to` exclusive', () => {
    expect(parseWindow(undefined, '2026-01-06T12:00:00Z')).toEqual({
      ok: true,
      window: { from: null, to: '2026-01-06T12:00:00.000Z' },
    });
  });
  it('names the bad field', () => {
    expect(parseWindow('nope', undefined)).toMatchObject({ ok: false, field: 'from' });
    expect(parseWindow('2026-01-06', '2026-01-05')).toMatchObject({ ok: false, field: 'to' });
    expect(parseWindow('2026-01-06T10:00:00Z', '2026-01-06T10:00:00Z')).toMatchObject({
      ok: false,
      field: 'to',
    });
  });
});

describe('planWindow', () => {
  it('answers a day-aligned window from whole days only', () => {
    expect(
      planWindow({ from: '2026-01-05T00:00:00.000Z', to: '2026-01-08T00:00:00.000Z' }),
    ).toEqual({
      dayFrom: '2026-01-05',
      dayTo: '2026-01-08',
      noWholeDays: false,
      edges: [],
    });
  });
  it('splits ragged edges off', () => {
    expect(
      planWindow({ from: '2026-01-05T10:00:00.000Z', to: '2026-01-08T06:00:00.000Z' }),
    ).toEqual({
      dayFrom: '2026-01-06',
      dayTo: '2026-01-08',
      noWholeDays: false,
      edges: [
        { from: '2026-01-05T10:00:00.000Z', to: '2026-01-06T00:00:00.000Z' },
        { from: '2026-01-08T00:00:00.000Z', to: '2026-01-08T06:00:00.000Z' },
      ],
    });
  });
  it('uses one edge for a window inside one day', () => {
    expect(
      planWindow({ from: '2026-01-05T10:00:00.000Z', to: '2026-01-05T12:00:00.000Z' }),
    ).toMatchObject({
      noWholeDays: true,
      edges: [{ from: '2026-01-05T10:00:00.000Z', to: '2026-01-05T12:00:00.000Z' }],
    });
    expect(
      planWindow({ from: '2026-01-05T00:00:00.000Z', to: '2026-01-05T12:00:00.000Z' }),
    ).toMatchObject({
      noWholeDays: true,
      edges: [{ from: '2026-01-05T00:00:00.000Z', to: '2026-01-05T12:00:00.000Z' }],
    });
  });
  it('leaves open ends open', () => {
    expect(planWindow({ from: null, to: '2026-01-05T12:00:00.000Z' })).toEqual({
      dayFrom: null,
      dayTo: '2026-01-05',
      noWholeDays: false,
      edges: [{ from: '2026-01-05T00:00:00.000Z', to: '2026-01-05T12:00:00.000Z' }],
    });
  });
});

describe('canonicalInstant', () => {
  it('accepts the stored form as it is and agrees with parseInstant', () => {
    for (const s of [
      '2026-01-05T09:30:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
    ]) {
      expect(canonicalInstant(s)).toBe(s);
      expect(new Date(parseInstant(s)!.ms).toISOString()).toBe(s);
    }
  });
  it('leaves every other form to the full parser', () => {
    for (const s of [
      '2026-01-05T09:30:00Z',
      '2026-01-05T09:30:00.000+00:00',
      '2025-02-29T10:00:00.000Z',
      '2026-04-31T10:00:00.000Z',
      '2026-01-05T24:00:00.000Z',
      '2026-01-05T23:60:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2026-01-05 09:30:00.000Z',
      '2026-0a-05T09:30:00.000Z',
    ]) {
      expect(canonicalInstant(s), s).toBeUndefined();
    }
  });
});
