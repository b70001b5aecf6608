import { useCallback, useMemo } from 'react';
import type { ClassConcepts } from '../types.ts';
import { Chart, type ChartClick, type ChartOption } from './Chart.tsx';

// Viridis: sequential, perceptually even, readable with colour-blindness and in greyscale.
const VIRIDIS = [
  '#440154',
  '#482878',
  '#3E4A89',
  '#31688E',
  '#26828E',
  '#1F9E89',
  '#35B779',
  '#6DCD59',
  '#B4DE2C',
  '#FDE725',
];

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

interface Props {
  matrix: ClassConcepts['matrix'];
  onSelectLearner?: (learnerId: string) => void;
}

/** Learners × concepts, mastery 0–100 per cell; a learner without attempts has an empty cell. */
export function Heatmap({ matrix, onSelectLearner }: Props) {
  const { learners, concepts, values } = matrix;

  const cells = useMemo(() => {
    const out: { value: [number, number, number]; label: { color: string } }[] = [];
    values.forEach((row, li) =>
      row.forEach((v, ci) => {
        if (v !== null && v !== undefined) {
          out.push({ value: [ci, li, v], label: { color: v >= 60 ? '#111' : '#fff' } });
        }
      }),
    );
    return out;
  }, [values]);

  const showLabels = concepts.length <= 12 && learners.length <= 60;
  const option = useMemo<ChartOption>(
    () => ({
      animation: false,
      textStyle: { fontFamily: 'inherit' },
      // Cells without attempts show the plain grid background: empty, not zero.
      grid: {
        left: 8,
        right: 16,
        top: 8,
        bottom: 64,
        containLabel: true,
        show: true,
        backgroundColor: '#f1f3f5',
        borderWidth: 0,
      },
      // No string `position`: ECharts would add an arrow with an inline style, which the CSP blocks.
      tooltip: {
        formatter: (p: { value: [number, number, number] }) => {
          const [ci, li, v] = p.value;
          return `${escapeHtml(learners[li] ?? '')}<br>${escapeHtml(concepts[ci] ?? '')}: <b>${v}</b> / 100`;
        },
      },
      xAxis: {
        type: 'category',
        data: concepts,
        position: 'top',
        axisLine: { show: false },
        axisTick: { show: false },
        axisLabel: { interval: 0, rotate: concepts.length > 6 ? 30 : 0, color: '#333' },
      },
      yAxis: {
        type: 'category',
        data: learners,
        inverse: true,
        axisLine: { show: false },
        axisTick: { show: false },
        axisLabel: { interval: 0, color: '#333' },
      },
      visualMap: {
        type: 'continuous',
        min: 0,
        max: 100,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 4,
        itemHeight: 200,
        text: ['100 (mastered)', 'Mastery 0'],
        textStyle: { color: '#333' },
        inRange: { color: VIRIDIS },
      },
      series: [
        {
          name: 'Mastery',
          type: 'heatmap',
          data: cells,
          label: { show: showLabels, fontSize: 11 },
          itemStyle: { borderColor: '#fff', borderWidth: 1 },
          emphasis: { itemStyle: { borderColor: '#111', borderWidth: 2 } },
        },
      ],
    }),
    [cells, concepts, learners, showLabels],
  );

  const onClick = useCallback(
    (p: ChartClick) => {
      const v = p.value as [number, number, number] | undefined;
      const learner = v ? learners[v[1]] : undefined;
      if (learner && onSelectLearner) onSelectLearner(learner);
    },
    [learners, onSelectLearner],
  );

  const height = Math.max(260, learners.length * 24 + 150);
  return (
    <Chart
      option={option}
      onChartClick={onClick}
      className="chart-heatmap"
      style={{ height }}
      role="img"
      aria-label={`Concept mastery heatmap: ${learners.length} learners by ${concepts.length} concepts, ${cells.length} cells with attempts. The concept table next to it has the class averages.`}
      data-testid="heatmap"
      data-cells={cells.length}
    />
  );
}
