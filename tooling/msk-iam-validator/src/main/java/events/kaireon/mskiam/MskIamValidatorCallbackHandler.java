package events.kaireon.mskiam;

import events.kaireon.mskiam.MskIamTokenVerifier.CredentialsSource;
import events.kaireon.mskiam.MskIamTokenVerifier.InvalidTokenException;
import events.kaireon.mskiam.MskIamTokenVerifier.Verified;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test broker's {@code listener.name.<l>.oauthbearer.sasl.server.callback.handler.class}: validates
 * MSK IAM tokens with {@link MskIamTokenVerifier}. JAAS options of the listener's OAuthBearerLoginModule:
 * {@code region} (required), {@code accessKeyId}/{@code secretAccessKey}/{@code principal} (a long-term
 * test key), {@code credentialsDir} (files a test writes), {@code maxExpiresSeconds} (default 900),
 * {@code maxClockSkewSeconds} (300).
 *
 * <p>The token's lifetime becomes the session's: with {@code connections.max.reauth.ms} set, the broker
 * sends min(token lifetime, max reauth) as the session lifetime and closes a connection that outlives it
 * without re-authenticating — what MSK does when its token expires.
 */
public final class MskIamValidatorCallbackHandler implements AuthenticateCallbackHandler {
  private static final Logger log = LoggerFactory.getLogger(MskIamValidatorCallbackHandler.class);
  private MskIamTokenVerifier verifier;

  @Override
  public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
    if (!"OAUTHBEARER".equals(saslMechanism)) throw new IllegalArgumentException("MskIamValidatorCallbackHandler serves OAUTHBEARER, not " + saslMechanism);
    if (jaasConfigEntries.size() != 1) throw new IllegalArgumentException("expected one JAAS login module entry, got " + jaasConfigEntries.size());
    Map<String, ?> options = jaasConfigEntries.get(0).getOptions();
    String region = option(options, "region");
    if (region == null) throw new IllegalArgumentException("the JAAS option region is required (the cluster's AWS region)");
    List<CredentialsSource> sources = new ArrayList<>();
    String id = option(options, "accessKeyId");
    if (id != null) {
      String secret = option(options, "secretAccessKey");
      if (secret == null) throw new IllegalArgumentException("the JAAS option accessKeyId needs secretAccessKey");
      sources.add(CredentialsSources.fixed(id, secret, optionOr(options, "principal", "arn:aws:iam::123456789012:user/kaireon-test")));
    }
    String dir = option(options, "credentialsDir");
    if (dir != null) sources.add(CredentialsSources.directory(Path.of(dir)));
    if (sources.isEmpty()) throw new IllegalArgumentException("no credentials: set accessKeyId/secretAccessKey or credentialsDir");
    verifier = new MskIamTokenVerifier(
        region,
        CredentialsSources.firstOf(sources),
        System::currentTimeMillis,
        Long.parseLong(optionOr(options, "maxExpiresSeconds", "900")),
        Long.parseLong(optionOr(options, "maxClockSkewSeconds", "300")) * 1000);
    log.info("MSK IAM validator for region {} ({} credential sources)", region, sources.size());
  }

  @Override
  public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
    for (Callback callback : callbacks) {
      if (callback instanceof OAuthBearerValidatorCallback v) validate(v);
      else if (callback instanceof OAuthBearerExtensionsValidatorCallback) {
        // MSK's token carries no SASL extensions; none are validated (none accepted).
      } else throw new UnsupportedCallbackException(callback);
    }
  }

  private void validate(OAuthBearerValidatorCallback callback) {
    Verified v;
    try {
      v = verifier.verify(callback.tokenValue());
    } catch (InvalidTokenException e) {
      log.info("MSK IAM token refused: {}", e.getMessage());
      // Thrown, not callback.error(): Kafka then answers the SaslAuthenticate request with this message
      // and SASL_AUTHENTICATION_FAILED at once. The RFC 7628 error challenge of callback.error() needs a
      // client that replies to it, which kafkajs does not (it would take the challenge for success).
      throw new SaslAuthenticationException("MSK IAM token refused: " + e.getMessage());
    }
    log.info("MSK IAM token accepted: {} (key {}), session until {}", v.principal(), v.accessKeyId(), java.time.Instant.ofEpochMilli(v.expiresAtMs()));
    callback.token(new Token(callback.tokenValue(), v));
  }

  @Override
  public void close() {}

  private static String option(Map<String, ?> options, String name) {
    Object value = options.get(name);
    return value == null || value.toString().isEmpty() ? null : value.toString();
  }

  private static String optionOr(Map<String, ?> options, String name, String fallback) {
    String value = option(options, name);
    return value == null ? fallback : value;
  }

  private record Token(String value, Verified verified) implements OAuthBearerToken {
    @Override
    public Set<String> scope() {
      return Set.of();
    }

    @Override
    public long lifetimeMs() {
      return verified.expiresAtMs();
    }

    @Override
    public String principalName() {
      return verified.principal();
    }

    @Override
    public Long startTimeMs() {
      return verified.issuedAtMs();
    }

    @Override
    public String toString() {
      return "MskIamToken[" + verified.principal() + "]"; // never the token (a bearer credential)
    }
  }
}
