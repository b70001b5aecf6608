import { useMemo } from 'react';
import { formatDay, formatShortDay, num, pct } from '../format.ts';
import type { DaySummary } from '../types.ts';
import { Chart, type ChartOption } from './Chart.tsx';

// Okabe–Ito colours (safe for colour-blind readers), with distinct symbols and dashes so that no
// line is told apart by colour alone.
const RATES = [
  { key: 'stuck', name: 'Stuck', color: '#D55E00', symbol: 'triangle', dash: 'solid' },
  { key: 'got_it', name: 'Got it', color: '#009E73', symbol: 'circle', dash: 'solid' },
  { key: 'pause', name: 'Pause', color: '#E69F00', symbol: 'rect', dash: 'dotted' },
  { key: 'example', name: 'Example', color: '#0072B2', symbol: 'diamond', dash: 'dotted' },
] as const;
const CONFIDENCE = { name: 'Confidence', color: '#555555' };

interface Props {
  series: DaySummary[];
  label: string;
  testId: string;
}

/** Daily rates (0–1, left axis) and average confidence (1–10, right axis). */
export function PulseChart({ series, label, testId }: Props) {
  const option = useMemo<ChartOption>(() => {
    const days = series.map((d) => d.day);
    return {
      animationDuration: 300,
      color: [...RATES.map((r) => r.color), CONFIDENCE.color],
      textStyle: { fontFamily: 'inherit' },
      legend: { top: 0, left: 0, itemGap: 16, textStyle: { color: '#333' } },
      grid: { left: 8, right: 8, top: 44, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'axis',
        // Markers by class, not ECharts' own (inline style attributes break under the CSP).
        formatter: (items: { dataIndex: number; seriesIndex: number; seriesName: string }[]) => {
          const first = items[0];
          const d = first ? series[first.dataIndex] : undefined;
          if (!d) return '';
          const lines = items.map((it) => {
            const rate = RATES[it.seriesIndex];
            const v = rate ? pct(d.averages[rate.key]) : num(d.averages.confidence);
            return `<span class="tt-marker tt-s${it.seriesIndex}"></span>${it.seriesName}: <b>${v}</b>`;
          });
          return [`<b>${formatDay(d.day)}</b> · ${d.count} records`, ...lines].join('<br>');
        },
      },
      xAxis: {
        type: 'category',
        data: days,
        boundaryGap: false,
        axisLabel: { formatter: (v: string) => formatShortDay(v), hideOverlap: true },
      },
      yAxis: [
        {
          type: 'value',
          name: 'Rate',
          min: 0,
          max: 1,
          axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` },
        },
        {
          type: 'value',
          name: 'Confidence',
          min: 1,
          max: 10,
          interval: 1,
          splitLine: { show: false },
        },
      ],
      series: [
        ...RATES.map((r) => ({
          name: r.name,
          type: 'line',
          yAxisIndex: 0,
          symbol: r.symbol,
          symbolSize: 7,
          showSymbol: series.length <= 60,
          lineStyle: { width: 2, type: r.dash },
          data: series.map((d) => d.averages[r.key]),
          connectNulls: false,
        })),
        {
          name: CONFIDENCE.name,
          type: 'line',
          yAxisIndex: 1,
          symbol: 'emptyCircle',
          symbolSize: 7,
          showSymbol: series.length <= 60,
          lineStyle: { width: 2, type: 'dashed' },
          data: series.map((d) => d.averages.confidence),
        },
      ],
    };
  }, [series]);

  const first = series[0];
  const last = series[series.length - 1];
  const summary =
    first && last
      ? `${label}: ${series.length} days from ${formatDay(first.day)} to ${formatDay(last.day)}. ` +
        'Rates of stuck, got it, pause and example, and average confidence. The same numbers are in the table below the chart.'
      : label;

  return (
    <figure className="chart-figure">
      <Chart
        option={option}
        className="chart-line"
        role="img"
        aria-label={summary}
        data-testid={testId}
        data-points={series.length}
      />
      <details className="chart-data">
        <summary>Show the numbers as a table</summary>
        <div className="table-scroll" tabIndex={0} role="region" aria-label={`${label} numbers`}>
          <table className="data-table compact">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Records</th>
                {RATES.map((r) => (
                  <th scope="col" key={r.key}>
                    {r.name}
                  </th>
                ))}
                <th scope="col">Confidence</th>
              </tr>
            </thead>
            <tbody>
              {series.map((d) => (
                <tr key={d.day}>
                  <th scope="row">{formatDay(d.day)}</th>
                  <td className="num">{d.count}</td>
                  {RATES.map((r) => (
                    <td className="num" key={r.key}>
                      {pct(d.averages[r.key])}
                    </td>
                  ))}
                  <td className="num">{num(d.averages.confidence)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
