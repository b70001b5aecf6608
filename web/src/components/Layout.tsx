import { useEffect, useRef, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth.tsx';

const ROLE: Record<string, string> = {
  admin: 'Administrator',
  instructor: 'Instructor',
  learner: 'Learner',
};

/** The frame of every signed-in page: skip link, header with the account, the page. */
export function Layout() {
  const { me, signOut } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [leaving, setLeaving] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a route change, move focus to the new page's heading, as a full page load would.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const box = main.current;
    if (!box) return;
    const focusHeading = () => {
      const h1 = box.querySelector('h1');
      if (!h1) return false;
      h1.setAttribute('tabindex', '-1');
      h1.focus();
      return true;
    };
    if (focusHeading()) return;
    // A page still loading (its code or its data) gets its heading a moment later.
    box.focus();
    const watch = new MutationObserver(() => {
      // Unless the reader has moved on already.
      if (document.activeElement !== box) watch.disconnect();
      else if (focusHeading()) watch.disconnect();
    });
    watch.observe(box, { childList: true, subtree: true });
    const stop = setTimeout(() => watch.disconnect(), 5000);
    return () => {
      watch.disconnect();
      clearTimeout(stop);
    };
  }, [location.pathname]);

  const who = me?.user?.name ?? me?.api_key?.name ?? 'Signed in';
  const detail = me?.user ? [ROLE[me.user.role], me.user.email].filter(Boolean).join(' · ') : '';

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Learntwin
          </Link>
          <nav aria-label="Main">
            <Link to="/">Classes</Link>
          </nav>
          <div className="account">
            <span className="account-who">
              <span className="account-name" data-testid="signed-in-user">
                {who}
              </span>
              {detail && <span className="account-detail">{detail}</span>}
            </span>
            <button
              type="button"
              className="btn btn-quiet"
              data-testid="sign-out"
              disabled={leaving}
              onClick={async () => {
                setLeaving(true);
                await signOut();
                navigate('/login', { replace: true });
              }}
            >
              {leaving ? 'Signing out…' : 'Sign out'}
            </button>
          </div>
        </div>
      </header>
      <main id="main" ref={main} className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
