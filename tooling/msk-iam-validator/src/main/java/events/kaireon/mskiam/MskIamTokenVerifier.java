package events.kaireon.mskiam;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * Checks an MSK IAM auth token the way an MSK broker does as far as anyone outside AWS can: the token
 * is a base64url SigV4-presigned {@code GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect};
 * its signature is recomputed with the AWS SDK for Java v2's own SigV4 signer for the same request,
 * signing time and expiry, with the secret of the access key it names, and compared. IAM policy
 * evaluation (may this principal connect?) is MSK's alone and is not attempted: a known, unexpired
 * key with a valid signature is let in.
 *
 * <p>Every refusal says why, and never contains a secret (secret keys are only ever handed to the signer).
 */
public final class MskIamTokenVerifier {
  public static final String ACTION = "kafka-cluster:Connect";
  public static final String SERVICE = "kafka-cluster";
  static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final Pattern WHOLE_SECONDS = Pattern.compile("[0-9]{1,7}");

  /** What the verifier knows about an access key: its secret, and for temporary credentials the session token and expiry. */
  public record Credentials(String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration, String principal) {
    @Override
    public String toString() {
      return "Credentials[" + accessKeyId + ", principal " + principal + "]"; // never the secret
    }
  }

  /** Where secrets come from (a static key, files the tests write). */
  public interface CredentialsSource {
    Optional<Credentials> find(String accessKeyId) throws InvalidTokenException;
  }

  /** A verified token: who, and until when the session may last (ms since epoch). */
  public record Verified(String principal, String accessKeyId, long issuedAtMs, long expiresAtMs) {}

  public static final class InvalidTokenException extends Exception {
    public InvalidTokenException(String message) {
      super(message);
    }
  }

  private final String region;
  private final CredentialsSource credentials;
  private final LongSupplier nowMs;
  private final long maxExpiresSeconds;
  private final long maxClockSkewMs;

  public MskIamTokenVerifier(String region, CredentialsSource credentials, LongSupplier nowMs, long maxExpiresSeconds, long maxClockSkewMs) {
    this.region = region;
    this.credentials = credentials;
    this.nowMs = nowMs;
    this.maxExpiresSeconds = maxExpiresSeconds;
    this.maxClockSkewMs = maxClockSkewMs;
  }

  public String host() {
    return "kafka." + region + ".amazonaws.com";
  }

  public Verified verify(String token) throws InvalidTokenException {
    if (token == null || token.isEmpty()) throw new InvalidTokenException("the token is empty");
    String url;
    try {
      url = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new InvalidTokenException("the token is not base64url (an MSK IAM token is a base64url-encoded presigned URL)");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (Exception e) {
      throw new InvalidTokenException("the token does not decode to a URL");
    }
    Map<String, String> q = query(uri.getRawQuery());

    String action = q.get("Action");
    if (!ACTION.equals(action)) throw new InvalidTokenException("the token's Action is " + quote(action) + ", not " + ACTION);
    if (!"AWS4-HMAC-SHA256".equals(q.get("X-Amz-Algorithm")))
      throw new InvalidTokenException("the token's X-Amz-Algorithm is " + quote(q.get("X-Amz-Algorithm")) + ", not AWS4-HMAC-SHA256");
    String[] scope = required(q, "X-Amz-Credential").split("/", -1);
    if (scope.length != 5 || !"aws4_request".equals(scope[4]))
      throw new InvalidTokenException("the token's X-Amz-Credential is not <access key>/<date>/<region>/<service>/aws4_request");
    String accessKeyId = scope[0];
    if (!region.equals(scope[2]))
      throw new InvalidTokenException("the token is signed for region " + scope[2] + ", but this cluster is in " + region + " (set MSK_REGION to the cluster's region)");
    if (!SERVICE.equals(scope[3])) throw new InvalidTokenException("the token is signed for service " + scope[3] + ", not " + SERVICE);
    if (!"https".equals(uri.getScheme()) || !host().equals(uri.getHost()) || uri.getPort() != -1)
      throw new InvalidTokenException("the token is for " + uri.getScheme() + "://" + uri.getHost() + ", not https://" + host());
    if (!"host".equals(q.get("X-Amz-SignedHeaders")))
      throw new InvalidTokenException("the token's X-Amz-SignedHeaders is " + quote(q.get("X-Amz-SignedHeaders")) + ", not host");

    String amzDate = required(q, "X-Amz-Date");
    Instant signedAt;
    try {
      signedAt = Instant.from(AMZ_DATE.parse(amzDate));
    } catch (DateTimeParseException e) {
      throw new InvalidTokenException("the token's X-Amz-Date " + quote(amzDate) + " is not yyyyMMddTHHmmssZ");
    }
    if (!scope[1].equals(amzDate.substring(0, 8)))
      throw new InvalidTokenException("the token's credential scope date " + scope[1] + " is not its X-Amz-Date's day");
    String expiresText = required(q, "X-Amz-Expires");
    if (!WHOLE_SECONDS.matcher(expiresText).matches())
      throw new InvalidTokenException("the token's X-Amz-Expires " + quote(expiresText) + " is not a whole number of seconds (SigV4 requires an integer)");
    long expires = Long.parseLong(expiresText);
    if (expires < 1 || expires > maxExpiresSeconds)
      throw new InvalidTokenException("the token's X-Amz-Expires " + expires + " s is outside 1.." + maxExpiresSeconds + " s");
    long now = nowMs.getAsLong();
    long expiresAt = signedAt.toEpochMilli() + expires * 1000;
    if (signedAt.toEpochMilli() - maxClockSkewMs > now)
      throw new InvalidTokenException("the token is signed at " + signedAt + ", in the future (clock skew over " + maxClockSkewMs / 1000 + " s)");
    if (now >= expiresAt)
      throw new InvalidTokenException("the token expired at " + Instant.ofEpochMilli(expiresAt) + " (X-Amz-Date " + amzDate + " + X-Amz-Expires " + expires + " s); now is " + Instant.ofEpochMilli(now));

    Credentials creds = credentials.find(accessKeyId)
        .orElseThrow(() -> new InvalidTokenException("the access key " + accessKeyId + " is not known (not the test key, not registered as issued by STS)"));
    String sessionToken = q.get("X-Amz-Security-Token");
    if (creds.sessionToken() != null) {
      if (sessionToken == null)
        throw new InvalidTokenException("the token has no X-Amz-Security-Token, but " + accessKeyId + " is a temporary (STS) access key");
      if (!MessageDigest.isEqual(sessionToken.getBytes(StandardCharsets.UTF_8), creds.sessionToken().getBytes(StandardCharsets.UTF_8)))
        throw new InvalidTokenException("the token's X-Amz-Security-Token is not the session token issued with " + accessKeyId);
    } else if (sessionToken != null) {
      throw new InvalidTokenException("the token has an X-Amz-Security-Token, but " + accessKeyId + " is a long-term access key");
    }
    if (creds.expiration() != null && now >= creds.expiration().toEpochMilli())
      throw new InvalidTokenException("the credentials that signed the token (" + accessKeyId + ") expired at " + creds.expiration());

    String expected = signature(creds, signedAt, expires);
    String actual = required(q, "X-Amz-Signature");
    if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), actual.getBytes(StandardCharsets.US_ASCII)))
      throw new InvalidTokenException("the token's signature does not match: it was not signed with the secret key of " + accessKeyId + " for this request (wrong secret, or the token was altered)");

    // A session never outlives the credentials that signed its token, as on MSK.
    long lifetime = creds.expiration() == null ? expiresAt : Math.min(expiresAt, creds.expiration().toEpochMilli());
    return new Verified(creds.principal(), accessKeyId, signedAt.toEpochMilli(), lifetime);
  }

  /** The SDK signer's X-Amz-Signature for the token's request, signed at {@code signedAt}, valid {@code expires} s. */
  String signature(Credentials creds, Instant signedAt, long expires) {
    SdkHttpRequest request = SdkHttpRequest.builder()
        .method(SdkHttpMethod.GET)
        .protocol("https")
        .host(host())
        .encodedPath("/")
        .putRawQueryParameter("Action", ACTION)
        .build();
    AwsCredentialsIdentity identity = creds.sessionToken() == null
        ? AwsCredentialsIdentity.create(creds.accessKeyId(), creds.secretAccessKey())
        : AwsSessionCredentialsIdentity.create(creds.accessKeyId(), creds.secretAccessKey(), creds.sessionToken());
    SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(identity)
        .request(request)
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, SERVICE)
        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
        .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
        .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, Duration.ofSeconds(expires))
        .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
    return signed.request().firstMatchingRawQueryParameter("X-Amz-Signature")
        .orElseThrow(() -> new IllegalStateException("the SDK signer made no X-Amz-Signature"));
  }

  private static Map<String, String> query(String raw) throws InvalidTokenException {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) throw new InvalidTokenException("the token's URL has no query (no SigV4 presigned parameters)");
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (out.put(key, value) != null) throw new InvalidTokenException("the token's URL repeats the parameter " + key);
    }
    return out;
  }

  private static String required(Map<String, String> q, String name) throws InvalidTokenException {
    String value = q.get(name);
    if (value == null || value.isEmpty()) throw new InvalidTokenException("the token has no " + name);
    return value;
  }

  private static String quote(String s) {
    return s == null ? "(none)" : "'" + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + "'";
  }
}
