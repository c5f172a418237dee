import { Component, lazy, Suspense, useEffect, type ErrorInfo, type ReactNode } from "react";
import { AuthProvider, useAuth } from "./auth";
import { ErrorMessage, Notice, PageTitle } from "./components/ui";
import type { ConsoleConfig } from "./config";
import { Link, match, Router, usePath, useRouter } from "./router";
import { SignInPage } from "./pages/SignIn";
import { allows } from "./permissions";
import type { Role } from "./session";

// Each role's pages are a chunk of their own: the sign-in page loads none of them.
const operator = () => import("./pages/operator");
const tenant = () => import("./pages/tenant");
const TenantsPage = lazy(() => operator().then((m) => ({ default: m.TenantsPage })));
const OnboardPage = lazy(() => operator().then((m) => ({ default: m.OnboardPage })));
const TenantDetailPage = lazy(() => operator().then((m) => ({ default: m.TenantDetailPage })));
const UsersPage = lazy(() => tenant().then((m) => ({ default: m.UsersPage })));
const ProductsPage = lazy(() => tenant().then((m) => ({ default: m.ProductsPage })));
const OrdersPage = lazy(() => tenant().then((m) => ({ default: m.OrdersPage })));
const OrderDetailPage = lazy(() => tenant().then((m) => ({ default: m.OrderDetailPage })));
const PlaceOrderPage = lazy(() => tenant().then((m) => ({ default: m.PlaceOrderPage })));
const UsagePage = lazy(() => tenant().then((m) => ({ default: m.UsagePage })));

const NAV: Record<Role, { to: string; label: string }[]> = {
  SystemAdmin: [
    { to: "/tenants", label: "Tenants" },
    { to: "/tenants/new", label: "Onboard a tenant" },
  ],
  TenantAdmin: [
    { to: "/users", label: "Users" },
    { to: "/products", label: "Products" },
    { to: "/orders", label: "Orders" },
    { to: "/usage", label: "Usage" },
  ],
  TenantUser: [
    { to: "/products", label: "Products" },
    { to: "/orders/new", label: "Place an order" },
    { to: "/orders", label: "My orders" },
  ],
};

/** A TenantAdmin's own usage, once the platform meters it (the route is in the contracts). */
function seesOwnUsage(role: Role | null, tenantId: string | null): boolean {
  return role === "TenantAdmin" && !!tenantId && allows(role, "GET", `/tenants/${encodeURIComponent(tenantId)}/usage`);
}

export function homeOf(role: Role | null): string {
  return role === "SystemAdmin" ? "/tenants" : "/products";
}

/** Never a blank page: a render error is shown in words with a way back. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }
  render() {
    if (this.state.error) {
      const chunk = /dynamically imported module|Failed to fetch/i.test(this.state.error.message);
      return (
        <section>
          <h1>Something went wrong</h1>
          <ErrorMessage
            error={chunk ? "Network failure: part of the console could not be loaded. Check your connection and reload." : `The page failed: ${this.state.error.message}`}
          />
          <p>
            <a href="/">Back to the start</a>
          </p>
        </section>
      );
    }
    return this.props.children;
  }
}

function Routes({ role, tenantId }: { role: Role; tenantId: string | null }) {
  const { pathname } = usePath();
  const { navigate } = useRouter();
  const wanted = (routes: Record<string, (params: Record<string, string>) => ReactNode>): ReactNode => {
    for (const [pattern, render] of Object.entries(routes)) {
      const params = match(pattern, pathname);
      if (params) return render(params);
    }
    return null;
  };
  const page =
    role === "SystemAdmin"
      ? wanted({
          "/tenants": () => <TenantsPage />,
          "/tenants/new": () => <OnboardPage />,
          "/tenants/:id": ({ id }) => <TenantDetailPage key={id} id={id} />,
        })
      : wanted({
          ...(role === "TenantAdmin" ? { "/users": () => <UsersPage /> } : {}),
          ...(seesOwnUsage(role, tenantId) ? { "/usage": () => <UsagePage /> } : {}),
          "/products": () => <ProductsPage />,
          "/orders": () => <OrdersPage />,
          "/orders/new": () => <PlaceOrderPage />,
          "/orders/:id": ({ id }) => <OrderDetailPage key={id} id={id} />,
        });
  useEffect(() => {
    if (page === null && (pathname === "/" || pathname === "/sign-in")) navigate(homeOf(role), { replace: true });
  }, [page, pathname, role, navigate]);
  if (page !== null) return <>{page}</>;
  if (pathname === "/" || pathname === "/sign-in") return null;
  return (
    <section>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is no page {pathname} for a {role}. <Link to={homeOf(role)}>Go to your start page</Link>.
      </p>
    </section>
  );
}

function Shell() {
  const { session, signOut } = useAuth();
  const { pathname } = usePath();
  const { navigate } = useRouter();
  useEffect(() => {
    if (!session && pathname !== "/sign-in") navigate("/sign-in", { replace: true });
  }, [session, pathname, navigate]);

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">SaaS console</span>
        {session?.role ? (
          <nav aria-label="Main">
            <ul>
              {NAV[session.role]
                .filter((item) => item.to !== "/usage" || seesOwnUsage(session.role, session.tenantId))
                .map((item) => (
                  <li key={item.to}>
                    <Link to={item.to}>{item.label}</Link>
                  </li>
                ))}
            </ul>
          </nav>
        ) : null}
        {session ? (
          <div className="who">
            <span>
              {session.email} · {session.role ?? "no role"}
            </span>{" "}
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main">
        <ErrorBoundary key={pathname}>
          {!session ? (
            <SignInPage />
          ) : !session.role ? (
            <section>
              <PageTitle>No role</PageTitle>
              <ErrorMessage error="Your account has no role in this console (SystemAdmin, TenantAdmin or TenantUser): ask your administrator." />
            </section>
          ) : (
            <Suspense fallback={<Notice>Loading…</Notice>}>
              <Routes role={session.role} tenantId={session.tenantId} />
            </Suspense>
          )}
        </ErrorBoundary>
      </main>
    </>
  );
}

export function App({ config, fetcher, storage }: { config: ConsoleConfig; fetcher?: typeof fetch; storage?: Storage }) {
  return (
    <Router>
      <AuthProvider config={config} fetcher={fetcher} storage={storage}>
        <Shell />
      </AuthProvider>
    </Router>
  );
}

export function ConfigFailure({ message }: { message: string }) {
  return (
    <main id="main">
      <h1>The console cannot start</h1>
      <ErrorMessage error={message} />
      <p>Reload the page to try again.</p>
    </main>
  );
}
