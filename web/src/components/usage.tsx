/** A tenant's usage and estimated cost per day (the metering service's GET /tenants/{id}/usage):
 * a range picker (the last 7 or 30 days, UTC), the totals, the cost split by service and by
 * item, and two bar charts drawn as plain SVG (no charting library: a few KB of code, not the
 * tens of KB gzipped a library adds to the bundle). */
import { useId, useState } from "react";
import type { Usage, UsageDay, UsageMeasures } from "../api";
import { useAuth } from "../auth";
import { useLoad } from "../hooks";
import { ErrorMessage, Notice } from "./ui";

export const RANGES = [7, 30] as const;
const DAY_MS = 86_400_000;

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last `days` days up to today (UTC), both ends included, as YYYY-MM-DD. */
export function rangeOf(days: number, now: Date = new Date()): { from: string; to: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: isoDate(new Date(today - (days - 1) * DAY_MS)), to: isoDate(new Date(today)) };
}

/** Dollars with cents, and more digits for the fractions of a cent small tenants cost. */
export function money(value: number, currency = "USD"): string {
  const digits = value !== 0 && Math.abs(value) < 1 ? 4 : 2;
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

const count = (value: number) => new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 }).format(value);

export interface Bar {
  label: string;
  /** One value per key of the chart, in the chart's order (stacked bottom to top). */
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 160;
const AXIS = 18;

/** A stacked bar chart: one bar per label, scaled to the tallest; each bar says its figures in
 * its title (hover, screen readers), the chart its highest bar in its label. */
export function BarChart({
  title,
  keys,
  bars,
  format,
}: {
  title: string;
  keys: string[];
  bars: Bar[];
  format: (value: number) => string;
}) {
  const totals = bars.map((bar) => bar.values.reduce((a, b) => a + Math.max(b, 0), 0));
  const max = Math.max(0, ...totals);
  const highest = totals.indexOf(max);
  const step = WIDTH / Math.max(bars.length, 1);
  const barWidth = Math.max(1, step * 0.72);
  const scale = (value: number) => (max > 0 ? (Math.max(value, 0) / max) * HEIGHT : 0);
  const summary = max > 0 ? `highest ${format(max)} on ${bars[highest].label}` : "nothing yet";
  // About eight dates under the bars: the first, the last, and every n-th not crowding the last.
  const every = Math.ceil(bars.length / 8);
  const labelled = (i: number) => i === bars.length - 1 || (i % every === 0 && bars.length - 1 - i >= every / 2);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`} role="img" aria-label={`${title}: ${summary}`}>
        <line x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} className="chart-axis" />
        {bars.map((bar, i) => {
          let y = HEIGHT;
          const x = i * step + (step - barWidth) / 2;
          const parts = keys.map((key, k) => `${key} ${format(bar.values[k] ?? 0)}`).join(", ");
          return (
            <g key={bar.label} data-bar={bar.label}>
              <title>{`${bar.label}: ${format(totals[i])}${keys.length > 1 ? ` (${parts})` : ""}`}</title>
              {bar.values.map((value, k) => {
                const height = scale(value);
                y -= height;
                return <rect key={keys[k]} x={x} y={y} width={barWidth} height={height} className={`series-${k % 6}`} />;
              })}
              {labelled(i) ? (
                <text x={i === 0 ? x : i === bars.length - 1 ? x + barWidth : x + barWidth / 2} y={HEIGHT + AXIS - 4} textAnchor={i === 0 ? "start" : i === bars.length - 1 ? "end" : "middle"} className="chart-label">
                  {bar.label.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <p className="chart-scale">
        Tallest bar: {format(max)}
        {keys.length > 1 ? (
          <span className="legend">
            {keys.map((key, k) => (
              <span key={key}>
                <span className={`swatch series-${k % 6}`} aria-hidden="true" /> {key}
              </span>
            ))}
          </span>
        ) : null}
      </p>
    </figure>
  );
}

function isEmpty(usage: Usage): boolean {
  const total = usage.total;
  return total.requests === 0 && total.lambda_billed_ms === 0 && total.cost.total === 0 && total.events_published === 0;
}

function sortedEntries(record: Record<string, number>): [string, number][] {
  return Object.entries(record).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function CostTable({ caption, label, split, total, currency }: { caption: string; label: string; split: Record<string, number>; total: number; currency: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col">Estimated cost</th>
          <th scope="col">Share</th>
        </tr>
      </thead>
      <tbody>
        {sortedEntries(split).map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name === "_shared" ? "shared (relays, provisioner, event log)" : name}</th>
            <td>{money(value, currency)}</td>
            <td>{total > 0 ? `${Math.round((value / total) * 100)} %` : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Totals({ total, currency }: { total: UsageMeasures; currency: string }) {
  const fauna = total.fauna_compute_ops + total.fauna_read_ops + total.fauna_write_ops;
  return (
    <dl className="details usage-totals">
      <dt>Estimated cost</dt>
      <dd>{money(total.cost.total, currency)}</dd>
      <dt>Requests</dt>
      <dd>{count(total.requests)}</dd>
      <dt>Errors</dt>
      <dd>
        {count(total.errors_4xx)} 4xx, {count(total.errors_5xx)} 5xx
      </dd>
      <dt>Lambda</dt>
      <dd>
        {count(total.lambda_gb_seconds)} GB-s ({count(total.lambda_billed_ms)} ms billed)
      </dd>
      <dt>DynamoDB</dt>
      <dd>
        {count(total.read_capacity_units)} read units, {count(total.write_capacity_units)} write units
      </dd>
      <dt>Events published</dt>
      <dd>{count(total.events_published)}</dd>
      {fauna > 0 ? (
        <>
          <dt>Fauna</dt>
          <dd>
            {count(total.fauna_compute_ops)} compute, {count(total.fauna_read_ops)} read, {count(total.fauna_write_ops)} write ops
          </dd>
        </>
      ) : null}
    </dl>
  );
}

function costBars(days: UsageDay[]): { keys: string[]; bars: Bar[] } {
  const totals: Record<string, number> = {};
  for (const day of days) for (const [name, value] of Object.entries(day.cost.by_service)) totals[name] = (totals[name] ?? 0) + value;
  const keys = sortedEntries(totals).map(([name]) => name);
  return { keys, bars: days.map((day) => ({ label: day.date, values: keys.map((key) => day.cost.by_service[key] ?? 0) })) };
}

function requestBars(days: UsageDay[]): Bar[] {
  return days.map((day) => ({
    label: day.date,
    values: [Math.max(day.requests - day.errors_4xx - day.errors_5xx, 0), day.errors_4xx, day.errors_5xx],
  }));
}

export function UsageView({ usage }: { usage: Usage }) {
  const currency = usage.currency || "USD";
  const cost = costBars(usage.days);
  return (
    <>
      <Totals total={usage.total} currency={currency} />
      <BarChart
        title={`Estimated cost per day (${currency}), by service`}
        keys={cost.keys.length > 0 ? cost.keys : ["cost"]}
        bars={cost.keys.length > 0 ? cost.bars : usage.days.map((day) => ({ label: day.date, values: [day.cost.total] }))}
        format={(value) => money(value, currency)}
      />
      <BarChart title="Requests per day" keys={["answered", "4xx", "5xx"]} bars={requestBars(usage.days)} format={count} />
      <CostTable caption="Cost by service" label="Service" split={usage.total.cost.by_service} total={usage.total.cost.total} currency={currency} />
      <CostTable caption="Cost by item" label="Item" split={usage.total.cost.by_item} total={usage.total.cost.total} currency={currency} />
      <details>
        <summary>Every day</summary>
        <table aria-label="Usage per day">
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Requests</th>
              <th scope="col">4xx</th>
              <th scope="col">5xx</th>
              <th scope="col">Estimated cost</th>
            </tr>
          </thead>
          <tbody>
            {usage.days.map((day) => (
              <tr key={day.date}>
                <th scope="row">{day.date}</th>
                <td>{count(day.requests)}</td>
                <td>{count(day.errors_4xx)}</td>
                <td>{count(day.errors_5xx)}</td>
                <td>{money(day.cost.total, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

/** The usage section of a tenant's page: the SystemAdmin's tenant page, the TenantAdmin's own. */
export function UsagePanel({ tenantId, now }: { tenantId: string; now?: Date }) {
  const { api } = useAuth();
  const [days, setDays] = useState<number>(RANGES[0]);
  const heading = useId();
  const { from, to } = rangeOf(days, now);
  const usage = useLoad(() => api.getUsage(tenantId, from, to), [api, tenantId, from, to]);
  return (
    <section className="usage" aria-labelledby={heading}>
      <h2 id={heading}>Usage and estimated cost</h2>
      <fieldset className="toolbar range">
        <legend>Range</legend>
        {RANGES.map((n) => (
          <label key={n}>
            <input type="radio" name={`${heading}-range`} value={n} checked={days === n} onChange={() => setDays(n)} /> Last {n} days
          </label>
        ))}
      </fieldset>
      <p className="hint">
        {from} to {to} (UTC). Costs are estimates from the price table, not the AWS bill.
      </p>
      {usage.error ? (
        <>
          <ErrorMessage error={usage.error} />
          <button type="button" onClick={() => void usage.reload()}>
            Try again
          </button>
        </>
      ) : usage.loading || !usage.data ? (
        <Notice>Loading usage…</Notice>
      ) : isEmpty(usage.data) ? (
        <Notice>No usage yet in the last {days} days.</Notice>
      ) : (
        <UsageView usage={usage.data} />
      )}
    </section>
  );
}
