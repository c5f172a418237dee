import { useState, type FormEvent } from "react";
import { useAuth } from "../auth";
import { CognitoError } from "../cognito";
import { ErrorMessage, Field, Notice, PageTitle } from "../components/ui";

function messageOf(error: unknown): string {
  if (error instanceof CognitoError || error instanceof Error) return error.message;
  return "Sign-in failed.";
}

export function SignInPage() {
  const { cognito, signedIn, notice } = useAuth();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<{ session: string; username: string } | null>(null);
  const [newPassword, setNewPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function signIn(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const result = await cognito.signIn(username.trim(), password);
      if (result.kind === "signedIn") signedIn(result.tokens);
      else setChallenge({ session: result.session, username: result.username });
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  async function setPasswordAndSignIn(event: FormEvent) {
    event.preventDefault();
    if (!challenge) return;
    if (newPassword !== repeat) {
      setError("The two new passwords differ.");
      return;
    }
    setError(null);
    setBusy(true);
    try {
      signedIn(await cognito.setNewPassword(challenge.username, challenge.session, newPassword));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  if (challenge) {
    return (
      <section className="narrow">
        <PageTitle key="new-password">Set a new password</PageTitle>
        <p>This is your first sign-in: choose your own password to replace the one in your invitation.</p>
        <ErrorMessage error={error} />
        <form onSubmit={setPasswordAndSignIn} noValidate>
          <Field label="New password" hint="At least 8 characters, with upper and lower case letters, a digit and a symbol.">
            {(props) => (
              <input {...props} type="password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
            )}
          </Field>
          <Field label="Repeat the new password">
            {(props) => (
              <input {...props} type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
            )}
          </Field>
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Set password and sign in"}
          </button>
        </form>
      </section>
    );
  }

  return (
    <section className="narrow">
      <PageTitle key="sign-in">Sign in</PageTitle>
      {notice ? <Notice>{notice}</Notice> : null}
      <ErrorMessage error={error} />
      <form onSubmit={signIn} noValidate>
        <Field label="Email or username">
          {(props) => (
            <input {...props} type="text" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
          )}
        </Field>
        <Field label="Password">
          {(props) => (
            <input {...props} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <button type="submit" disabled={busy || !username || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
