/** Cognito's own API (the JSON protocol every AWS SDK speaks), called with fetch: public client
 * operations only (no signing, no client secret), so no crypto is needed. */

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
}

export type SignInResult =
  | { kind: "signedIn"; tokens: Tokens }
  | { kind: "newPasswordRequired"; session: string; username: string };

export class CognitoError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** What a person reads for Cognito's error codes; otherwise Cognito's own message. */
const FRIENDLY: Record<string, string> = {
  NotAuthorizedException: "Incorrect username or password.",
  UserNotFoundException: "Incorrect username or password.",
  PasswordResetRequiredException: "Your password must be reset before you can sign in.",
  UserNotConfirmedException: "Your account is not confirmed yet.",
  TooManyRequestsException: "Too many attempts: wait a moment and try again.",
};

export class CognitoClient {
  constructor(
    private readonly endpoint: string,
    private readonly clientId: string,
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  private async call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetcher(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new CognitoError("Network failure: the sign-in service cannot be reached.", "NetworkError");
    }
    const text = await response.text();
    let answer: Record<string, unknown> = {};
    try {
      answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      answer = {};
    }
    if (!response.ok) {
      const rawType = String(answer.__type ?? answer.code ?? `HTTP${response.status}`);
      const code = rawType.split("#").pop() ?? rawType;
      const message = String(answer.message ?? answer.Message ?? `Sign-in service error (HTTP ${response.status}).`);
      const friendly = code === "NotAuthorizedException" && /disabled/i.test(message) ? "This user is disabled." : FRIENDLY[code];
      throw new CognitoError(friendly ?? message, code);
    }
    return answer;
  }

  private static tokens(answer: Record<string, unknown>, refreshToken?: string): Tokens {
    const result = answer.AuthenticationResult as Record<string, string> | undefined;
    if (!result?.IdToken || !result.AccessToken) {
      throw new CognitoError("The sign-in service answered without tokens.", "NoTokens");
    }
    const refresh = result.RefreshToken ?? refreshToken;
    if (!refresh) throw new CognitoError("The sign-in service answered without a refresh token.", "NoTokens");
    return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: refresh };
  }

  async signIn(username: string, password: string): Promise<SignInResult> {
    const answer = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      const parameters = (answer.ChallengeParameters ?? {}) as Record<string, string>;
      return {
        kind: "newPasswordRequired",
        session: String(answer.Session ?? ""),
        username: parameters.USER_ID_FOR_SRP || username,
      };
    }
    if (answer.ChallengeName) {
      throw new CognitoError(`Sign-in needs ${String(answer.ChallengeName)}, which this console does not offer.`, "Challenge");
    }
    return { kind: "signedIn", tokens: CognitoClient.tokens(answer) };
  }

  async setNewPassword(username: string, session: string, newPassword: string): Promise<Tokens> {
    const answer = await this.call("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: this.clientId,
      Session: session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
    return CognitoClient.tokens(answer);
  }

  async refresh(refreshToken: string): Promise<Tokens> {
    const answer = await this.call("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: this.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    return CognitoClient.tokens(answer, refreshToken);
  }

  /** Revokes the refresh token (and the tokens issued from it). */
  async revoke(refreshToken: string): Promise<void> {
    await this.call("RevokeToken", { ClientId: this.clientId, Token: refreshToken });
  }
}
