/** SystemAdmin pages: tenants, onboarding, a tenant's detail and its lifecycle. */
import { useState, type FormEvent } from "react";
import { ApiError, type Tenant } from "../api";
import { useAuth } from "../auth";
import { Confirm, ErrorMessage, Field, Notice, PageTitle, StatusBadge } from "../components/ui";
import { UsagePanel } from "../components/usage";
import { newIdempotencyKey, useLoad, usePolling } from "../hooks";
import { allows } from "../permissions";
import { Link, useRouter } from "../router";

export const TENANT_STATUSES = ["PROVISIONING", "ACTIVE", "PROVISIONING_FAILED", "SUSPENDED", "OFFBOARDING", "OFFBOARDED"];
const MOVING = new Set(["PROVISIONING", "OFFBOARDING"]);
const PAGE_SIZE = 20;

export function TenantsPage() {
  const { api } = useAuth();
  // Tokens of the pages before the one shown (Previous goes back through them).
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  const [status, setStatus] = useState("");
  const current = tokens[tokens.length - 1];
  const page = useLoad(() => api.listTenants(PAGE_SIZE, current), [api, current]);
  const items = page.data?.items ?? [];
  usePolling(items.some((t) => MOVING.has(t.status)), page.reload);
  const shown = status ? items.filter((t) => t.status === status) : items;

  return (
    <section>
      <PageTitle>Tenants</PageTitle>
      <p>
        <Link to="/tenants/new" className="button">
          Onboard a tenant
        </Link>
      </p>
      <div className="toolbar">
        <Field label="Status">
          {(props) => (
            <select {...props} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">Any status</option>
              {TENANT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorMessage error={page.error} />
      {page.loading && !page.data ? <Notice>Loading tenants…</Notice> : null}
      {page.data ? (
        <table aria-label="Tenants">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Tier</th>
              <th scope="col">Region group</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((tenant) => (
              <tr key={tenant.id} data-tenant-id={tenant.id}>
                <td>
                  <Link to={`/tenants/${encodeURIComponent(tenant.id)}`}>{tenant.name}</Link>
                </td>
                <td>{tenant.tier}</td>
                <td>{tenant.region_group}</td>
                <td>
                  <StatusBadge status={tenant.status} />
                </td>
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={4}>{status ? `No ${status} tenant on this page.` : "No tenant yet."}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <nav className="pager" aria-label="Tenant pages">
        <button type="button" disabled={tokens.length <= 1} onClick={() => setTokens(tokens.slice(0, -1))}>
          Previous page
        </button>{" "}
        <button
          type="button"
          disabled={!page.data?.next_token}
          onClick={() => setTokens([...tokens, page.data?.next_token ?? null])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}

function configFromText(text: string): Record<string, string> | string {
  const config: Record<string, string> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at <= 0) return `line ${index + 1}: write key=value`;
    config[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return config;
}

function configToText(config: Record<string, string>): string {
  return Object.entries(config)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

export function OnboardPage() {
  const { api } = useAuth();
  const { navigate } = useRouter();
  const [form, setForm] = useState({ name: "", tier: "basic", region_group: "us", admin_email: "", config: "" });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per form filled in: a retry after a network failure does not onboard twice.
  const [key] = useState(newIdempotencyKey);
  const set = (name: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm({ ...form, [name]: event.target.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    const config = configFromText(form.config);
    if (typeof config === "string") {
      setFields({ config });
      return;
    }
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const { config: _text, ...rest } = form;
      void _text;
      const accepted = await api.onboardTenant({ ...rest, name: rest.name.trim(), admin_email: rest.admin_email.trim(), config }, key);
      navigate(`/tenants/${encodeURIComponent(accepted.id)}`);
    } catch (caught) {
      const apiError = caught instanceof ApiError ? caught : null;
      setFields(apiError?.fields ?? {});
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <PageTitle>Onboard a tenant</PageTitle>
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        <Field label="Name" error={fields.name} hint="1 to 100 characters.">
          {(props) => <input {...props} value={form.name} onChange={set("name")} required maxLength={100} />}
        </Field>
        <Field label="Tier" error={fields.tier}>
          {(props) => (
            <select {...props} value={form.tier} onChange={set("tier")}>
              <option value="basic">basic</option>
              <option value="premium">premium</option>
            </select>
          )}
        </Field>
        <Field label="Region group" error={fields.region_group}>
          {(props) => (
            <select {...props} value={form.region_group} onChange={set("region_group")}>
              <option value="us">us</option>
              <option value="eu">eu</option>
              <option value="global">global</option>
            </select>
          )}
        </Field>
        <Field label="Admin email" error={fields.admin_email} hint="The tenant's first admin: the invitation goes there.">
          {(props) => <input {...props} type="email" value={form.admin_email} onChange={set("admin_email")} required />}
        </Field>
        <Field label="Config (optional)" error={fields.config} hint="One key=value a line.">
          {(props) => <textarea {...props} rows={3} value={form.config} onChange={set("config")} />}
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? "Onboarding…" : "Onboard"}
        </button>
      </form>
    </section>
  );
}

type Action = "suspend" | "activate" | "offboard";
const ACTION_WORDS: Record<Action, { question: (t: Tenant) => string; label: string }> = {
  suspend: { question: (t) => `Suspend ${t.name}? Its users are refused until it is activated again.`, label: "Yes, suspend" },
  activate: { question: (t) => `Activate ${t.name}? Its users can sign in and work again.`, label: "Yes, activate" },
  offboard: { question: (t) => `Offboard ${t.name}? Its environment and data are removed; this cannot be undone.`, label: "Yes, offboard" },
};

export function TenantDetailPage({ id }: { id: string }) {
  const { api, session } = useAuth();
  const tenant = useLoad(() => api.getTenant(id), [api, id]);
  const [asking, setAsking] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const t = tenant.data;
  usePolling(!!t && MOVING.has(t.status), tenant.reload);

  async function act(action: Action) {
    setBusy(true);
    setError(null);
    try {
      if (action === "suspend") await api.suspendTenant(id);
      if (action === "activate") await api.activateTenant(id);
      if (action === "offboard") await api.offboardTenant(id);
      setDone(`${action === "offboard" ? "Offboarding started" : action === "suspend" ? "Suspended" : "Activated"}.`);
      await tenant.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
      setAsking(null);
    }
  }

  return (
    <section>
      <p>
        <Link to="/tenants">← All tenants</Link>
      </p>
      <PageTitle>{t ? `Tenant ${t.name}` : "Tenant"}</PageTitle>
      <ErrorMessage error={tenant.error} />
      <ErrorMessage error={error} />
      {done ? <Notice>{done}</Notice> : null}
      {t ? (
        <>
          <dl className="details">
            <dt>Id</dt>
            <dd>{t.id}</dd>
            <dt>Status</dt>
            <dd aria-live="polite">
              <StatusBadge status={t.status} />
            </dd>
            {t.status_reason ? (
              <>
                <dt>Reason</dt>
                <dd className="reason">{t.status_reason}</dd>
              </>
            ) : null}
            <dt>Tier</dt>
            <dd>{t.tier}</dd>
            <dt>Region group</dt>
            <dd>{t.region_group}</dd>
            <dt>Config</dt>
            <dd>
              {Object.keys(t.config).length === 0 ? (
                "none"
              ) : (
                <ul>
                  {Object.entries(t.config).map(([k, v]) => (
                    <li key={k}>
                      <code>{k}</code> = {v}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>
          {asking ? (
            <Confirm
              question={ACTION_WORDS[asking].question(t)}
              confirmLabel={ACTION_WORDS[asking].label}
              busy={busy}
              onConfirm={() => void act(asking)}
              onCancel={() => setAsking(null)}
            />
          ) : (
            <div className="actions">
              {t.status === "ACTIVE" ? (
                <button type="button" onClick={() => setAsking("suspend")}>
                  Suspend
                </button>
              ) : null}
              {t.status === "SUSPENDED" ? (
                <button type="button" onClick={() => setAsking("activate")}>
                  Activate
                </button>
              ) : null}
              {t.status !== "OFFBOARDING" && t.status !== "OFFBOARDED" ? (
                <>
                  <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                    Change tier or config
                  </button>
                  <button type="button" className="danger" onClick={() => setAsking("offboard")}>
                    Offboard
                  </button>
                </>
              ) : null}
            </div>
          )}
          {editing ? (
            <ChangeTenantForm
              tenant={t}
              onSaved={async () => {
                setEditing(false);
                setDone("Saved.");
                await tenant.reload();
              }}
            />
          ) : null}
          {/* Once the platform meters usage (the metering service's route is in the contracts). */}
          {allows(session?.role ?? null, "GET", `/tenants/${encodeURIComponent(t.id)}/usage`) ? <UsagePanel tenantId={t.id} /> : null}
        </>
      ) : null}
    </section>
  );
}

function ChangeTenantForm({ tenant, onSaved }: { tenant: Tenant; onSaved: () => Promise<void> }) {
  const { api } = useAuth();
  const [tier, setTier] = useState(tenant.tier);
  const [config, setConfig] = useState(configToText(tenant.config));
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  async function save() {
    const parsed = configFromText(config);
    if (typeof parsed === "string") {
      setFields({ config: parsed });
      setConfirming(false);
      return;
    }
    setBusy(true);
    try {
      await api.changeTenant(tenant.id, { tier, config: parsed });
      await onSaved();
    } catch (caught) {
      setFields(caught instanceof ApiError ? caught.fields : {});
      setError(caught as Error);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="narrow"
      aria-label="Change tier or config"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setConfirming(true);
      }}
    >
      <h2>Change tier or config</h2>
      <ErrorMessage error={error} />
      <Field label="New tier" error={fields.tier}>
        {(props) => (
          <select {...props} value={tier} onChange={(e) => setTier(e.target.value as Tenant["tier"])}>
            <option value="basic">basic</option>
            <option value="premium">premium</option>
          </select>
        )}
      </Field>
      <Field label="New config" error={fields.config} hint="One key=value a line.">
        {(props) => <textarea {...props} rows={3} value={config} onChange={(e) => setConfig(e.target.value)} />}
      </Field>
      {confirming ? (
        <Confirm
          question={`Save tier ${tier} and this config for ${tenant.name}?`}
          confirmLabel="Yes, save"
          busy={busy}
          onConfirm={() => void save()}
          onCancel={() => setConfirming(false)}
        />
      ) : (
        <button type="submit">Save changes</button>
      )}
    </form>
  );
}
