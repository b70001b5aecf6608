import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.databaseUrl).toMatch(/data[/\\]learntwin\.db$/);
    expect(c.apiKey).toBeUndefined();
    expect(c.maxRecordsPerRequest).toBe(10_000);
    expect(c.ruleThresholds.stuckRateHigh).toBe(0.3);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u@h/db',
      API_KEY: 'k',
      LOG_LEVEL: 'debug',
      RULE_STUCK_RATE_HIGH: '0.4',
    });
    expect(c).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      databaseUrl: 'postgres://u@h/db',
      apiKey: 'k',
      logLevel: 'debug',
    });
    expect(c.ruleThresholds.stuckRateHigh).toBe(0.4);
  });

  it('names the variable and the problem when one is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(
      new ConfigError('PORT must be an integer from 0 to 65535, got "eighty"'),
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
    expect(() => loadConfig({ RULE_CONFIDENCE_LOW: '11' })).toThrow(/RULE_CONFIDENCE_LOW/);
  });
});
