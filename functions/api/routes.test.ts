import { describe, expect, it } from 'vitest';
import { matchRoute } from './routes.ts';

describe('api routing', () => {
  it('prefers literal paths over parameters and reads path parameters', () => {
    const effects = matchRoute('GET', '/api/audio/effects');
    expect(effects && 'route' in effects && effects.route.pattern).toBe('/api/audio/effects');
    const session = matchRoute('GET', '/api/audio/ses_abc/');
    expect(session && 'params' in session && session.params).toEqual({ session_id: 'ses_abc' });
    const job = matchRoute('GET', '/api/audio/ses_abc/jobs/job_1');
    expect(job && 'params' in job && job.params).toEqual({ session_id: 'ses_abc', job_id: 'job_1' });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(matchRoute('PUT', '/api/audio/session')).toEqual({ allowed: ['POST'] });
    expect(matchRoute('GET', '/nope')).toBeNull();
  });
});
