import { type HTMLAttributes, useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { HeatmapChart, LineChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  HeatmapChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

export interface ChartClick {
  componentType: string;
  seriesType?: string;
  dataIndex: number;
  value: unknown;
}

interface ChartProps extends Omit<HTMLAttributes<HTMLDivElement>, 'onClick'> {
  option: ChartOption;
  onChartClick?: (p: ChartClick) => void;
  [data: `data-${string}`]: string | number | undefined;
}

/**
 * An ECharts chart on a div: created on mount, given the option whenever it changes, resized
 * with its box, disposed on unmount.
 */
export function Chart({ option, onChartClick, className, ...rest }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const c = echarts.init(el, undefined, { renderer: 'canvas' });
    chart.current = c;
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  useEffect(() => {
    const c = chart.current;
    if (!c || !onChartClick) return;
    const handler = (p: unknown) => onChartClick(p as ChartClick);
    c.on('click', handler);
    return () => {
      if (!c.isDisposed()) c.off('click', handler);
    };
  }, [onChartClick]);

  return <div ref={box} className={`chart ${className ?? ''}`} {...rest} />;
}
