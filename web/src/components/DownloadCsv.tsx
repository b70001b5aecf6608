import { useState } from 'react';
import { api } from '../api.ts';
import { describeError } from '../errors.ts';
import type { Range } from '../types.ts';

/** Saves the class export (CSV) for the range: fetched with the token, saved through a Blob. */
export function DownloadCsv({ classId, range }: { classId: string; range: Range }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const { blob, filename } = await api.exportCsv(classId, range);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
      // Give the browser time to start the download before the URL goes.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(`The download failed. ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="download">
      <button
        type="button"
        className="btn"
        onClick={download}
        disabled={busy}
        aria-describedby={error ? 'download-error' : undefined}
        data-testid="download-csv"
      >
        <span aria-hidden="true">⤓ </span>
        {busy ? 'Preparing CSV…' : 'Download CSV'}
      </button>
      {error && (
        <p id="download-error" className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
