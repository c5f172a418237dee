/** The console's session context: config, Cognito, the signed-in user and the API client. */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { ApiClient, SESSION_ENDED } from "./api";
import { CognitoClient, type Tokens } from "./cognito";
import { cognitoEndpointOf, type ConsoleConfig } from "./config";
import { expiresSoon, loadSession, saveSession, sessionOf, type Session } from "./session";

export interface Auth {
  config: ConsoleConfig;
  cognito: CognitoClient;
  api: ApiClient;
  session: Session | null;
  /** A message for the sign-in page (why the user was sent back there). */
  notice: string | null;
  signedIn: (tokens: Tokens) => void;
  signOut: (notice?: string) => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

export function AuthProvider({
  config,
  children,
  fetcher,
  storage = sessionStorage,
}: {
  config: ConsoleConfig;
  children: ReactNode;
  fetcher?: typeof fetch;
  storage?: Storage;
}) {
  const [session, setSession] = useState<Session | null>(() => loadSession(storage));
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const refreshing = useRef<Promise<string | null> | null>(null);

  const cognito = useMemo(
    () => new CognitoClient(cognitoEndpointOf(config), config.userPoolClientId, fetcher),
    [config, fetcher],
  );

  const replace = useCallback(
    (next: Session | null) => {
      saveSession(next, storage);
      sessionRef.current = next;
      setSession(next);
    },
    [storage],
  );

  const endSession = useCallback(
    (message: string | null) => {
      replace(null);
      setNotice(message);
    },
    [replace],
  );

  const token = useCallback(async (): Promise<string | null> => {
    const current = sessionRef.current;
    if (!current) return null;
    if (!expiresSoon(current)) return current.tokens.idToken;
    refreshing.current ??= cognito
      .refresh(current.tokens.refreshToken)
      .then((tokens) => {
        const next = sessionOf(tokens);
        replace(next);
        return next.tokens.idToken;
      })
      .catch(() => {
        endSession(SESSION_ENDED);
        return null;
      })
      .finally(() => {
        refreshing.current = null;
      });
    return refreshing.current;
  }, [cognito, replace, endSession]);

  const api = useMemo(
    () =>
      new ApiClient({
        baseUrl: config.apiUrl,
        baseUrls: config.apiUrls,
        token,
        role: () => sessionRef.current?.role ?? null,
        onUnauthorized: (message) => endSession(message),
        fetcher,
      }),
    [config, token, endSession, fetcher],
  );

  const signedIn = useCallback(
    (tokens: Tokens) => {
      setNotice(null);
      replace(sessionOf(tokens));
    },
    [replace],
  );

  const signOut = useCallback(
    async (message?: string) => {
      const current = sessionRef.current;
      endSession(message ?? "You are signed out.");
      if (current) {
        // Revoke the refresh token; the session is gone from this browser whatever the answer.
        await cognito.revoke(current.tokens.refreshToken).catch(() => undefined);
      }
    },
    [cognito, endSession],
  );

  const value = useMemo<Auth>(
    () => ({ config, cognito, api, session, notice, signedIn, signOut }),
    [config, cognito, api, session, notice, signedIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
