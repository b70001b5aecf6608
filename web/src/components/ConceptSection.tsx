import { useCallback } from 'react';
import { useNavigate } from 'react-router-dom';
import { isNotFound } from '../errors.ts';
import type { AsyncState } from '../hooks.ts';
import type { ClassConcepts } from '../types.ts';
import { Heatmap } from './Heatmap.tsx';
import { Empty, ErrorNote, Loading } from './States.tsx';

/** The class's concept mastery: the learner × concept heatmap and the per-concept averages. */
export function ConceptSection({
  classId,
  state,
}: {
  classId: string;
  state: AsyncState<ClassConcepts>;
}) {
  const navigate = useNavigate();
  const open = useCallback(
    (learner: string) =>
      navigate(`/learners/${encodeURIComponent(learner)}`, { state: { fromClass: classId } }),
    [navigate, classId],
  );
  const { data, error } = state;

  let body;
  if (!data && error !== undefined && !isNotFound(error)) {
    body = <ErrorNote error={error} onRetry={state.reload} />;
  } else if (!data && error === undefined) {
    body = <Loading label="Loading concept mastery…" />;
  } else if (!data || data.matrix.learners.length === 0 || data.matrix.concepts.length === 0) {
    body = (
      <div data-testid="heatmap" data-cells={0}>
        <Empty title="No concept attempts yet.">
          <p>
            The heatmap fills in once learning events with a concept (quiz attempts, exercises)
            arrive for this class.
          </p>
        </Empty>
      </div>
    );
  } else {
    body = (
      <div className="concepts">
        <div className="concepts-map">
          <p className="muted">
            Mastery 0–100 per learner and concept (Bayesian knowledge tracing). Blank cells: no
            attempts yet. Click a cell, or use the student table, to open a learner.
          </p>
          <Heatmap matrix={data.matrix} onSelectLearner={open} />
        </div>
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Concept averages">
          <table className="data-table compact">
            <caption>Class averages per concept</caption>
            <thead>
              <tr>
                <th scope="col">Concept</th>
                <th scope="col" className="num">
                  Learners
                </th>
                <th scope="col" className="num">
                  Mean mastery
                </th>
                <th scope="col" className="num">
                  Mastered
                </th>
              </tr>
            </thead>
            <tbody>
              {data.concepts.map((c) => (
                <tr key={c.concept_id}>
                  <th scope="row">{c.concept_id}</th>
                  <td className="num">{c.learners}</td>
                  <td className="num">{Math.round(c.mean_mastery)}</td>
                  <td className="num">{Math.round(c.share_mastered * 100)}%</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    );
  }

  return (
    <section className="panel" aria-labelledby="concepts-heading">
      <h2 id="concepts-heading">Concept mastery</h2>
      {body}
    </section>
  );
}
