import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { api, ApiError, hasSession, onSignedOut, storeTokens } from './api.ts';
import { describeError } from './errors.ts';
import { Loading } from './components/States.tsx';
import type { Me, TokenPair } from './types.ts';

type Status = 'checking' | 'signed-in' | 'signed-out' | 'error';

interface AuthValue {
  status: Status;
  me: Me | null;
  error: string | null;
  /** Keeps the tokens of a successful sign-in and loads who signed in. */
  signIn: (pair: TokenPair) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>(() => (hasSession() ? 'checking' : 'signed-out'));
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadMe = useCallback(async () => {
    try {
      setMe(await api.me());
      setError(null);
      setStatus('signed-in');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setMe(null);
        setStatus('signed-out');
      } else {
        setError(describeError(e));
        setStatus('error');
      }
    }
  }, []);

  // The first check only: later changes come from signIn, signOut and onSignedOut.
  useEffect(() => {
    if (hasSession()) void loadMe();
  }, [loadMe]);

  useEffect(
    () =>
      onSignedOut(() => {
        setMe(null);
        setStatus('signed-out');
      }),
    [],
  );

  const signIn = useCallback(
    async (pair: TokenPair) => {
      storeTokens(pair);
      await loadMe();
    },
    [loadMe],
  );

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // The tokens are gone from this browser either way.
    }
    setMe(null);
    setStatus('signed-out');
  }, []);

  const retry = useCallback(() => {
    setStatus('checking');
    void loadMe();
  }, [loadMe]);

  const value = useMemo(
    () => ({ status, me, error, signIn, signOut, retry }),
    [status, me, error, signIn, signOut, retry],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}

/** Shows its children to signed-in people; sends everyone else to the sign-in page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, error, retry } = useAuth();
  const location = useLocation();
  if (status === 'checking') return <Loading label="Checking your session…" />;
  if (status === 'error') {
    return (
      <main className="page narrow" id="main">
        <h1>Cannot load the dashboard</h1>
        <p role="alert">{error}</p>
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      </main>
    );
  }
  if (status === 'signed-out') {
    const next = location.pathname + location.search;
    return <Navigate to="/login" replace state={{ next }} />;
  }
  return children;
}
