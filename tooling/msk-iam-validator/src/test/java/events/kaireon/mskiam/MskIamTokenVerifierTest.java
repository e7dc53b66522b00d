package events.kaireon.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import events.kaireon.mskiam.MskIamTokenVerifier.Credentials;
import events.kaireon.mskiam.MskIamTokenVerifier.InvalidTokenException;
import events.kaireon.mskiam.MskIamTokenVerifier.Verified;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Tokens made by aws-msk-iam-sasl-signer-js 1.0.3 (the signer the msk package uses) at 2026-12-01T11:36:07Z
 * with made-up keys, checked by the SDK for Java's signer: the two SigV4 implementations agree.
 */
class MskIamTokenVerifierTest {
  static final long SIGNED_AT = Instant.parse("2026-12-01T11:36:07Z").toEpochMilli();
  static final String STATIC_TOKEN = "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSUFLQUlSRU9OVEVTVDAwMDAxJTJGMjAyNjEyMDElMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjEyMDFUMTEzNjA3WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduYXR1cmU9NWZhNjExZDYyNjgwMTRjMjQwMTUzMGYyN2JlOGM0MzgxMDk2ODQzNTM4Y2VhYjEyM2VhMzgzNjk0ZTk2OTk2NSZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q";
  static final String SESSION_TOKEN = "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFLQUlSRU9OVEVTVDAwMDAyJTJGMjAyNjEyMDElMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjEyMDFUMTEzNjA3WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TZWN1cml0eS1Ub2tlbj1GUW9HWlhJdllYZHpFJTJCa2FpcmVvbiUyRnNlc3Npb24lM0QlM0QmWC1BbXotU2lnbmF0dXJlPWEyZTNiMWNmMDJjNjM2YWE3Y2ViZjE1NDk0OGRkOTZhN2U0N2ExOWQyMTMxNWYxZjJlZTQ4MTE2MTI0ZTUxNDcmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0";
  /** Signed with credentials that had 30.5 s left: the signer wrote X-Amz-Expires=30.499. */
  static final String FRACTIONAL_TOKEN = "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFLQUlSRU9OVEVTVDAwMDAyJTJGMjAyNjEyMDElMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjEyMDFUMTEzNjA3WiZYLUFtei1FeHBpcmVzPTMwLjQ5OSZYLUFtei1TZWN1cml0eS1Ub2tlbj1GUW9HWlhJdllYZHpFJTJCa2FpcmVvbiUyRnNlc3Npb24lM0QlM0QmWC1BbXotU2lnbmF0dXJlPWYxYzY5OTQ2NTIzOTZjZjQ0MGZlOTkxZWQxMWUyYzFlODc4YWEyMWUzMzY3NDZmZjA2M2NmOTE4NmQ1NmU3ZmEmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0";
  static final String SECRET_1 = "kaireon-unit-secret-1";
  static final String SECRET_2 = "kaireon-unit-secret-2";
  static final String SESSION = "FQoGZXIvYXdzE+kaireon/session==";

  static MskIamTokenVerifier verifier(String region, long now, Map<String, Credentials> keys) {
    return new MskIamTokenVerifier(region, id -> Optional.ofNullable(keys.get(id)), () -> now, 900, 300_000);
  }

  static Map<String, Credentials> keys(String secret1, Instant sessionExpiry) {
    return Map.of(
        "AKIAKAIREONTEST00001", new Credentials("AKIAKAIREONTEST00001", secret1, null, null, "arn:aws:iam::123456789012:user/unit"),
        "ASIAKAIREONTEST00002", new Credentials("ASIAKAIREONTEST00002", SECRET_2, SESSION, sessionExpiry, "arn:aws:sts::123456789012:assumed-role/r/s"));
  }

  static String refusal(MskIamTokenVerifier v, String token) {
    String message = assertThrows(InvalidTokenException.class, () -> v.verify(token)).getMessage();
    assertFalse(message.contains(SECRET_1) || message.contains(SECRET_2) || message.contains(SESSION), message);
    return message;
  }

  @Test
  void acceptsTheJsSignersTokenWithALongTermKey() throws Exception {
    Verified v = verifier("eu-west-1", SIGNED_AT + 60_000, keys(SECRET_1, null)).verify(STATIC_TOKEN);
    assertEquals("arn:aws:iam::123456789012:user/unit", v.principal());
    assertEquals(SIGNED_AT, v.issuedAtMs());
    assertEquals(SIGNED_AT + 900_000, v.expiresAtMs());
  }

  @Test
  void acceptsASessionTokenAndCapsTheSessionAtTheCredentialsExpiry() throws Exception {
    Instant credsExpire = Instant.ofEpochMilli(SIGNED_AT + 120_000);
    Verified v = verifier("eu-west-1", SIGNED_AT + 60_000, keys(SECRET_1, credsExpire)).verify(SESSION_TOKEN);
    assertEquals("arn:aws:sts::123456789012:assumed-role/r/s", v.principal());
    assertEquals(credsExpire.toEpochMilli(), v.expiresAtMs());
  }

  @Test
  void refusesATokenWhoseCredentialsHaveExpired() {
    String m = refusal(verifier("eu-west-1", SIGNED_AT + 200_000, keys(SECRET_1, Instant.ofEpochMilli(SIGNED_AT + 120_000))), SESSION_TOKEN);
    assertTrue(m.contains("the credentials that signed the token (ASIAKAIREONTEST00002) expired at 2026-12-01T11:38:07Z"), m);
  }

  @Test
  void refusesTheWrongSecret() {
    String m = refusal(verifier("eu-west-1", SIGNED_AT + 60_000, keys("another-secret", null)), STATIC_TOKEN);
    assertTrue(m.contains("signature does not match"), m);
    assertFalse(m.contains("another-secret"), m);
  }

  @Test
  void refusesAnotherRegion() {
    String m = refusal(verifier("us-east-1", SIGNED_AT + 60_000, keys(SECRET_1, null)), STATIC_TOKEN);
    assertTrue(m.contains("signed for region eu-west-1, but this cluster is in us-east-1"), m);
  }

  @Test
  void refusesAnExpiredToken() {
    String m = refusal(verifier("eu-west-1", SIGNED_AT + 900_000, keys(SECRET_1, null)), STATIC_TOKEN);
    assertTrue(m.contains("the token expired at 2026-12-01T11:51:07Z"), m);
  }

  @Test
  void refusesAnUnknownKeyAndATamperedToken() {
    String m = refusal(verifier("eu-west-1", SIGNED_AT, Map.of()), STATIC_TOKEN);
    assertTrue(m.contains("access key AKIAKAIREONTEST00001 is not known"), m);
    String url = new String(Base64.getUrlDecoder().decode(STATIC_TOKEN)).replace("X-Amz-Expires=900", "X-Amz-Expires=899");
    String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(url.getBytes());
    assertTrue(refusal(verifier("eu-west-1", SIGNED_AT, keys(SECRET_1, null)), tampered).contains("signature does not match"));
    assertTrue(refusal(verifier("eu-west-1", SIGNED_AT, keys(SECRET_1, null)), "not base64!").contains("not base64url"));
  }

  @Test
  void refusesAFractionalExpiry() {
    String m = refusal(verifier("eu-west-1", SIGNED_AT + 1_000, keys(SECRET_1, null)), FRACTIONAL_TOKEN);
    assertTrue(m.contains("X-Amz-Expires '30.499' is not a whole number of seconds"), m);
  }
}
