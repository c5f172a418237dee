/** TenantAdmin and TenantUser pages: users, products, orders. Controls appear only where the
 * role's route permissions (the services' contracts) let it act. */
import { useState, type FormEvent } from "react";
import { ApiError, type Order, type Product, type ProductIn, type User } from "../api";
import { useAuth } from "../auth";
import { Confirm, ErrorMessage, Field, Notice, PageTitle, StatusBadge } from "../components/ui";
import { UsagePanel } from "../components/usage";
import { newIdempotencyKey, useLoad, usePolling } from "../hooks";
import { allows, exists } from "../permissions";
import { Link, useRouter } from "../router";

function usePaging() {
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  return {
    current: tokens[tokens.length - 1],
    canGoBack: tokens.length > 1,
    back: () => setTokens(tokens.slice(0, -1)),
    next: (token: string) => setTokens([...tokens, token]),
    first: () => setTokens([null]),
  };
}

function Pager({ label, paging, nextToken }: { label: string; paging: ReturnType<typeof usePaging>; nextToken?: string | null }) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={!paging.canGoBack} onClick={paging.back}>
        Previous page
      </button>{" "}
      <button type="button" disabled={!nextToken} onClick={() => nextToken && paging.next(nextToken)}>
        Next page
      </button>
    </nav>
  );
}

// ---- usage ----------------------------------------------------------------------------------

/** The TenantAdmin's own tenant's usage and estimated cost. */
export function UsagePage() {
  const { session } = useAuth();
  return (
    <section>
      <PageTitle>Usage</PageTitle>
      {session?.tenantId ? (
        <UsagePanel tenantId={session.tenantId} />
      ) : (
        <ErrorMessage error="Your account belongs to no tenant: there is no usage to show." />
      )}
    </section>
  );
}

// ---- users ----------------------------------------------------------------------------------

type UserAction = "disable" | "enable" | "resend-invitation" | "remove";
const USER_ACTIONS: { action: UserAction; method: string; template: string; label: string }[] = [
  { action: "resend-invitation", method: "POST", template: "/users/{username}/resend-invitation", label: "Re-send invitation" },
  { action: "disable", method: "POST", template: "/users/{username}/disable", label: "Disable" },
  { action: "enable", method: "POST", template: "/users/{username}/enable", label: "Enable" },
  { action: "remove", method: "DELETE", template: "/users/{username}", label: "Remove" },
];

export function UsersPage() {
  const { api, session } = useAuth();
  const paging = usePaging();
  const users = useLoad(() => api.listUsers(20, paging.current), [api, paging.current]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("TenantUser");
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [asking, setAsking] = useState<{ user: User; action: UserAction } | null>(null);
  const [busy, setBusy] = useState(false);
  const actions = USER_ACTIONS.filter(
    (a) => exists(a.method, a.template) && allows(session?.role ?? null, a.method, a.template),
  );

  async function invite(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    setDone(null);
    try {
      const user = await api.inviteUser(email.trim(), role);
      setDone(`Invitation sent to ${user.email} as ${user.role}.`);
      setEmail("");
      await users.reload();
    } catch (caught) {
      setFields(caught instanceof ApiError ? caught.fields : {});
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }

  async function act(user: User, action: UserAction) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      if (action === "remove") await api.removeUser(user.username);
      else await api.userAction(user.username, action);
      const words = { disable: "disabled", enable: "enabled", "resend-invitation": "sent a new invitation", remove: "removed" };
      setDone(`${user.email}: ${words[action]}.`);
      await users.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
      setAsking(null);
    }
  }

  return (
    <section>
      <PageTitle>Users</PageTitle>
      <ErrorMessage error={users.error} />
      <ErrorMessage error={error} />
      {done ? <Notice>{done}</Notice> : null}
      {users.data ? (
        <table aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              {actions.length ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((user) => (
              <tr key={user.username}>
                <td>{user.email}</td>
                <td>{user.role}</td>
                <td>{user.enabled === undefined ? "—" : user.enabled ? "Enabled" : "Disabled"}</td>
                {actions.length ? (
                  <td>
                    {user.username === session?.username || user.email === session?.email ? (
                      "you"
                    ) : asking?.user.username === user.username ? (
                      <Confirm
                        question={`${actions.find((a) => a.action === asking.action)?.label} ${user.email}?`}
                        confirmLabel="Yes"
                        busy={busy}
                        onConfirm={() => void act(user, asking.action)}
                        onCancel={() => setAsking(null)}
                      />
                    ) : (
                      actions.filter((a) => (a.action === "enable" ? user.enabled === false : a.action === "disable" ? user.enabled !== false : true)).map((a) => (
                        <button
                          key={a.action}
                          type="button"
                          className={a.action === "remove" || a.action === "disable" ? "danger" : undefined}
                          aria-label={`${a.label} ${user.email}`}
                          onClick={() => setAsking({ user, action: a.action })}
                        >
                          {a.label}
                        </button>
                      ))
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
            {users.data.items.length === 0 ? (
              <tr>
                <td colSpan={actions.length ? 4 : 3}>No user yet.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <Pager label="User pages" paging={paging} nextToken={users.data?.next_token} />
      <form className="narrow" onSubmit={invite} noValidate aria-label="Invite a user">
        <h2>Invite a user</h2>
        <Field label="Email" error={fields.email}>
          {(props) => <input {...props} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />}
        </Field>
        <Field label="Role" error={fields.role}>
          {(props) => (
            <select {...props} value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="TenantUser">TenantUser</option>
              <option value="TenantAdmin">TenantAdmin</option>
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Invite
        </button>
      </form>
    </section>
  );
}

// ---- products -------------------------------------------------------------------------------

const EMPTY: ProductIn = { name: "", sku: "", price: "", stock: 0 };

function ProductForm({ initial, title, onSave, onCancel }: { initial: ProductIn; title: string; onSave: (p: ProductIn) => Promise<void>; onCancel?: () => void }) {
  const [form, setForm] = useState({ ...initial, stock: String(initial.stock) });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const stock = Number(form.stock);
    if (form.stock.trim() === "" || !Number.isInteger(stock) || stock < 0) {
      setFields({ stock: "Stock is a whole number, 0 or more." });
      return;
    }
    setBusy(true);
    setError(null);
    setFields({});
    try {
      await onSave({ name: form.name.trim(), sku: form.sku.trim(), price: form.price.trim(), stock });
      setForm({ ...EMPTY, stock: "0" });
    } catch (caught) {
      setFields(caught instanceof ApiError ? caught.fields : {});
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }

  const set = (name: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value });
  return (
    <form className="narrow" onSubmit={submit} noValidate aria-label={title}>
      <h2>{title}</h2>
      <ErrorMessage error={error} />
      <Field label="Name" error={fields.name}>
        {(props) => <input {...props} value={form.name} onChange={set("name")} required />}
      </Field>
      <Field label="SKU" error={fields.sku}>
        {(props) => <input {...props} value={form.sku} onChange={set("sku")} required />}
      </Field>
      <Field label="Price" error={fields.price} hint="An amount with at most two decimals, like 9.99.">
        {(props) => <input {...props} inputMode="decimal" value={form.price} onChange={set("price")} required />}
      </Field>
      <Field label="Stock" error={fields.stock}>
        {(props) => <input {...props} type="number" min={0} step={1} value={form.stock} onChange={set("stock")} required />}
      </Field>
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : "Save product"}
      </button>{" "}
      {onCancel ? (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
    </form>
  );
}

export function ProductsPage() {
  const { api, session } = useAuth();
  const role = session?.role ?? null;
  const paging = usePaging();
  const products = useLoad(() => api.listProducts(10, paging.current), [api, paging.current]);
  const [editing, setEditing] = useState<Product | null>(null);
  const [deleting, setDeleting] = useState<Product | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canCreate = allows(role, "POST", "/products");
  const canEdit = allows(role, "PUT", "/products/{product_id}");
  const canDelete = allows(role, "DELETE", "/products/{product_id}");
  const canOrder = allows(role, "POST", "/orders");

  async function remove(product: Product) {
    setBusy(true);
    setError(null);
    try {
      await api.deleteProduct(product.id);
      setDone(`${product.name} deleted.`);
      await products.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  }

  return (
    <section>
      <PageTitle>Products</PageTitle>
      {canOrder ? (
        <p>
          <Link to="/orders/new" className="button">
            Place an order
          </Link>
        </p>
      ) : null}
      <ErrorMessage error={products.error} />
      <ErrorMessage error={error} />
      {done ? <Notice>{done}</Notice> : null}
      {products.loading && !products.data ? <Notice>Loading products…</Notice> : null}
      {products.data ? (
        <table aria-label="Products">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">SKU</th>
              <th scope="col">Price</th>
              <th scope="col">Stock</th>
              {canEdit || canDelete ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {products.data.items.map((product) => (
              <tr key={product.id} data-product-id={product.id}>
                <td>{product.name}</td>
                <td>{product.sku}</td>
                <td>{product.price}</td>
                <td className="stock">{product.stock}</td>
                {canEdit || canDelete ? (
                  <td>
                    {deleting?.id === product.id ? (
                      <Confirm
                        question={`Delete ${product.name}?`}
                        confirmLabel="Yes, delete"
                        busy={busy}
                        onConfirm={() => void remove(product)}
                        onCancel={() => setDeleting(null)}
                      />
                    ) : (
                      <>
                        {canEdit ? (
                          <button type="button" aria-label={`Edit ${product.name}`} onClick={() => setEditing(product)}>
                            Edit
                          </button>
                        ) : null}{" "}
                        {canDelete ? (
                          <button type="button" className="danger" aria-label={`Delete ${product.name}`} onClick={() => setDeleting(product)}>
                            Delete
                          </button>
                        ) : null}
                      </>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
            {products.data.items.length === 0 ? (
              <tr>
                <td colSpan={canEdit || canDelete ? 5 : 4}>No product yet.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <Pager label="Product pages" paging={paging} nextToken={products.data?.next_token} />
      {editing ? (
        <ProductForm
          key={editing.id}
          title={`Edit ${editing.name}`}
          initial={editing}
          onCancel={() => setEditing(null)}
          onSave={async (product) => {
            await api.updateProduct(editing.id, product);
            setEditing(null);
            setDone(`${product.name} saved.`);
            await products.reload();
          }}
        />
      ) : null}
      {canCreate && !editing ? (
        <ProductForm
          title="New product"
          initial={EMPTY}
          onSave={async (product) => {
            await api.createProduct(product);
            setDone(`${product.name} created.`);
            await products.reload();
          }}
        />
      ) : null}
    </section>
  );
}

// ---- orders ---------------------------------------------------------------------------------

function linesText(order: Order, names: Map<string, string>): string {
  return order.lines.map((line) => `${line.quantity} × ${names.get(line.product_id) ?? line.product_id}`).join(", ");
}

function useProductNames() {
  const { api } = useAuth();
  const products = useLoad(() => api.listProducts(100), [api]);
  return new Map((products.data?.items ?? []).map((p) => [p.id, p.name]));
}

export function OrdersPage() {
  const { api } = useAuth();
  const paging = usePaging();
  const orders = useLoad(() => api.listOrders(20, paging.current), [api, paging.current]);
  const names = useProductNames();
  usePolling(!!orders.data?.items.some((o) => o.status === "PENDING"), orders.reload);
  return (
    <section>
      <PageTitle>Orders</PageTitle>
      <p>Newest first.</p>
      <ErrorMessage error={orders.error} />
      {orders.loading && !orders.data ? <Notice>Loading orders…</Notice> : null}
      {orders.data ? (
        <table aria-label="Orders">
          <thead>
            <tr>
              <th scope="col">Placed</th>
              <th scope="col">Lines</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {orders.data.items.map((order) => (
              <tr key={order.id} data-order-id={order.id}>
                <td>
                  <Link to={`/orders/${encodeURIComponent(order.id)}`}>
                    {order.placed_at ? new Date(order.placed_at).toLocaleString() : order.id}
                  </Link>
                </td>
                <td>{linesText(order, names)}</td>
                <td>
                  <StatusBadge status={order.status} />
                </td>
                <td>{order.reason ?? ""}</td>
              </tr>
            ))}
            {orders.data.items.length === 0 ? (
              <tr>
                <td colSpan={4}>No order yet.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <Pager label="Order pages" paging={paging} nextToken={orders.data?.next_token} />
    </section>
  );
}

export function OrderDetailPage({ id }: { id: string }) {
  const { api } = useAuth();
  const order = useLoad(() => api.getOrder(id), [api, id]);
  const names = useProductNames();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const o = order.data;
  usePolling(o?.status === "PENDING", order.reload);

  async function cancel() {
    setBusy(true);
    setError(null);
    try {
      await api.cancelOrder(id);
      await order.reload();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
      setAsking(false);
    }
  }

  return (
    <section>
      <p>
        <Link to="/orders">← All orders</Link>
      </p>
      <PageTitle>Order</PageTitle>
      <ErrorMessage error={order.error} />
      <ErrorMessage error={error} />
      {o ? (
        <>
          <dl className="details">
            <dt>Id</dt>
            <dd>{o.id}</dd>
            <dt>Placed</dt>
            <dd>{o.placed_at ? new Date(o.placed_at).toLocaleString() : "—"}</dd>
            <dt>Status</dt>
            <dd aria-live="polite">
              <StatusBadge status={o.status} />
            </dd>
            {o.reason ? (
              <>
                <dt>Reason</dt>
                <dd className="reason">{o.reason}</dd>
              </>
            ) : null}
            <dt>Lines</dt>
            <dd>
              <ul>
                {o.lines.map((line) => (
                  <li key={line.product_id}>
                    {line.quantity} × {names.get(line.product_id) ?? line.product_id}
                  </li>
                ))}
              </ul>
            </dd>
          </dl>
          {o.status === "PENDING" || o.status === "CONFIRMED" ? (
            asking ? (
              <Confirm question="Cancel this order?" confirmLabel="Yes, cancel the order" busy={busy} onConfirm={() => void cancel()} onCancel={() => setAsking(false)} />
            ) : (
              <button type="button" className="danger" onClick={() => setAsking(true)}>
                Cancel order
              </button>
            )
          ) : null}
        </>
      ) : null}
    </section>
  );
}

export function PlaceOrderPage() {
  const { api } = useAuth();
  const { navigate } = useRouter();
  const products = useLoad(() => api.listProducts(100), [api]);
  const [lines, setLines] = useState<{ product_id: string; quantity: string }[]>([{ product_id: "", quantity: "1" }]);
  const [error, setError] = useState<Error | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);
  const items = products.data?.items ?? [];

  const update = (index: number, change: Partial<{ product_id: string; quantity: string }>) => {
    setLines(lines.map((line, i) => (i === index ? { ...line, ...change } : line)));
    setKey(newIdempotencyKey());
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = lines.map((line) => ({ product_id: line.product_id, quantity: Number(line.quantity) }));
    const bad = parsed.findIndex((line) => !line.product_id || !Number.isInteger(line.quantity) || line.quantity < 1);
    if (bad >= 0) {
      setError(`Line ${bad + 1}: choose a product and a quantity of 1 or more.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const accepted = await api.placeOrder(parsed, key);
      navigate(`/orders/${encodeURIComponent(accepted.id)}`);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <PageTitle>Place an order</PageTitle>
      <ErrorMessage error={products.error} />
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        {lines.map((line, index) => (
          <fieldset key={index} className="order-line">
            <legend>Line {index + 1}</legend>
            <Field label={`Product (line ${index + 1})`}>
              {(props) => (
                <select {...props} value={line.product_id} onChange={(e) => update(index, { product_id: e.target.value })}>
                  <option value="">Choose a product</option>
                  {items.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name} ({p.stock} in stock)
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={`Quantity (line ${index + 1})`}>
              {(props) => (
                <input {...props} type="number" min={1} step={1} value={line.quantity} onChange={(e) => update(index, { quantity: e.target.value })} />
              )}
            </Field>
            {lines.length > 1 ? (
              <button type="button" onClick={() => setLines(lines.filter((_, i) => i !== index))}>
                Remove line {index + 1}
              </button>
            ) : null}
          </fieldset>
        ))}
        <button type="button" onClick={() => setLines([...lines, { product_id: "", quantity: "1" }])}>
          Add a line
        </button>{" "}
        <button type="submit" disabled={busy}>
          {busy ? "Placing…" : "Place order"}
        </button>
      </form>
    </section>
  );
}
