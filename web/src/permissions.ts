/** Which role may call which route: the services' own permission files (their contracts), so
 * the console shows a control only where the API lets the role use it, and can tell a 403 of a
 * route the role may call (the tenant is not active) from one it may not (the role). Every
 * services/<name>/contracts/permissions.json at build time: a new service's routes (the
 * metering service's usage) count without a change here. */
/// <reference types="vite/client" />
import type { Role } from "./session";

interface RoutePermission {
  method: string;
  path: string;
  roles: string[];
}

const FILES = import.meta.glob<{ routes: RoutePermission[] }>("../../services/*/contracts/permissions.json", {
  eager: true,
  import: "default",
});

export const ROUTES: RoutePermission[] = Object.values(FILES).flatMap((file) => file.routes);

function matches(template: string, path: string): boolean {
  const a = template.replace(/^\/+|\/+$/g, "").split("/");
  const b = path.split("?")[0].replace(/^\/+|\/+$/g, "").split("/");
  return a.length === b.length && a.every((part, i) => part.startsWith("{") || part === b[i]);
}

/** Whether the route (a template like /users/{username}/disable or a concrete path) is granted. */
export function allows(role: Role | null, method: string, path: string, routes = ROUTES): boolean {
  if (!role) return false;
  return routes.some(
    (route) => route.method === method.toUpperCase() && matches(route.path, path) && route.roles.includes(role),
  );
}

/** Whether the API has the route at all (for routes added later, like user disabling). */
export function exists(method: string, template: string, routes = ROUTES): boolean {
  return routes.some((route) => route.method === method.toUpperCase() && route.path === template);
}
