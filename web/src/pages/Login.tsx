import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { describeError } from '../errors.ts';
import { useDocumentTitle } from '../hooks.ts';

/** Counts a Retry-After down to zero, one second at a time. */
function useCountdown(): [number, (s: number) => void] {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (left <= 0) return;
    const t = setTimeout(() => setLeft((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  return [left, setLeft];
}

export function LoginPage() {
  const { status, signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const next = (location.state as { next?: string } | null)?.next ?? '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useCountdown();
  const [limited, setLimited] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  useDocumentTitle(mfaToken ? 'Two-factor code' : 'Sign in');

  useEffect(() => {
    if (mfaToken) codeInput.current?.focus();
  }, [mfaToken]);

  // Once the wait is over, the "too many attempts" note has done its job.
  useEffect(() => {
    if (limited && wait <= 0) {
      setLimited(false);
      setError(null);
    }
  }, [limited, wait]);

  if (status === 'signed-in') return <Navigate to={next} replace />;

  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.status === 429) {
      setWait(e.retryAfter ?? 60);
      setLimited(true);
    }
    // An expired or used-up second-step token: start over from the password.
    if (mfaToken && e instanceof ApiError && e.status === 401 && e.code !== 'invalid_code') {
      setMfaToken(null);
      setCode('');
      setError('The sign-in took too long. Enter your email and password again.');
    } else {
      setError(describeError(e));
    }
    // Back to the field to fix; the alert is read out on its own.
    requestAnimationFrame(() => (codeInput.current ?? passwordInput.current)?.focus());
  };

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(email.trim(), password);
      if ('mfa_required' in answer) {
        setMfaToken(answer.mfa_token);
        setPassword('');
      } else {
        await signIn(answer);
        navigate(next, { replace: true });
      }
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: FormEvent) => {
    e.preventDefault();
    if (!mfaToken) return;
    if (!code.trim()) {
      setError('Enter the 6-digit code from your authenticator app, or a backup code.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(await api.loginMfa(mfaToken, code.trim()));
      navigate(next, { replace: true });
    } catch (err) {
      setCode('');
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const blocked = busy || wait > 0;
  const errorNote = error && (
    <div className="notice notice-error" role="alert" id="login-error">
      <p>{limited ? describeError(new ApiError(429, 'rate_limited', '', wait)) : error}</p>
    </div>
  );

  return (
    <main id="main" className="login-page">
      <div className="login-card">
        <p className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Learntwin
        </p>
        {!mfaToken ? (
          <form onSubmit={submitPassword} noValidate data-testid="login-form" aria-busy={busy}>
            <h1>Sign in</h1>
            <p className="muted">The teacher dashboard: class pulse, students and concepts.</p>
            {errorNote}
            <div className="field">
              <label htmlFor="email">Email</label>
              <input
                id="email"
                name="email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="password">Password</label>
              <input
                id="password"
                name="password"
                type="password"
                autoComplete="current-password"
                ref={passwordInput}
                required
                aria-describedby={error ? 'login-error' : undefined}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
            <button type="submit" className="btn btn-primary btn-block" disabled={blocked}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        ) : (
          <form onSubmit={submitCode} noValidate data-testid="mfa-form" aria-busy={busy}>
            <h1>Two-factor code</h1>
            <p className="muted">
              Enter the 6-digit code from your authenticator app. No phone at hand? Use one of your
              backup codes instead.
            </p>
            {errorNote}
            <div className="field">
              <label htmlFor="code">Code</label>
              <input
                id="code"
                name="code"
                ref={codeInput}
                type="text"
                inputMode="text"
                autoComplete="one-time-code"
                autoCapitalize="off"
                spellCheck={false}
                maxLength={64}
                required
                aria-describedby={error ? 'login-error code-help' : 'code-help'}
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
              <p id="code-help" className="field-help">
                6 digits, or a backup code such as abcde-fghij.
              </p>
            </div>
            <button type="submit" className="btn btn-primary btn-block" disabled={blocked}>
              {busy ? 'Checking…' : 'Verify and sign in'}
            </button>
            <button
              type="button"
              className="btn btn-quiet btn-block"
              onClick={() => {
                setMfaToken(null);
                setCode('');
                setError(null);
              }}
            >
              Back to email and password
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
