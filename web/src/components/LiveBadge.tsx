import type { LiveStatus } from '../live.ts';

const TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Reconnecting…',
  unavailable: 'Live off',
};

const HELP: Record<LiveStatus, string> = {
  connecting: 'Connecting to live updates',
  live: 'New records appear here as they arrive',
  offline: 'The live connection dropped; trying again',
  unavailable: 'Live updates are not available for this class',
};

export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span className={`live live-${status}`} title={HELP[status]}>
      <span className="live-dot" aria-hidden="true" />
      <span data-testid="live-status" role="status" aria-live="polite">
        {TEXT[status]}
      </span>
    </span>
  );
}
