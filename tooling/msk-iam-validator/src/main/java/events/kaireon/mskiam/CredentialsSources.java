package events.kaireon.mskiam;

import events.kaireon.mskiam.MskIamTokenVerifier.Credentials;
import events.kaireon.mskiam.MskIamTokenVerifier.CredentialsSource;
import events.kaireon.mskiam.MskIamTokenVerifier.InvalidTokenException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.protocols.jsoncore.JsonNode;
import software.amazon.awssdk.protocols.jsoncore.JsonNodeParser;

/**
 * The places the validator learns secrets from: what an MSK cluster would learn from IAM and STS. (Not
 * moto's /moto-api/data.json: it dumps every service's state, tens of MB once the Kinesis and SQS
 * tests ran, on each lookup; the tests register what moto's STS issues through a recorder instead.)
 */
final class CredentialsSources {
  private CredentialsSources() {}

  private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Z0-9]{16,128}");

  /** One long-term key given in the listener's JAAS options (the default-chain key the tests export). */
  static CredentialsSource fixed(String accessKeyId, String secretAccessKey, String principal) {
    return id -> id.equals(accessKeyId) ? Optional.of(new Credentials(id, secretAccessKey, null, null, principal)) : Optional.empty();
  }

  /**
   * A folder of {@code <access key id>.json} files ({@code secretAccessKey}, optional {@code sessionToken},
   * {@code expiration} ISO-8601, {@code principal}): what a test tells the "IAM" of this cluster about
   * the credentials STS issued (its STS recorder writes each AssumeRole answer here). Read on each use.
   */
  static CredentialsSource directory(Path dir) {
    return id -> {
      if (!ACCESS_KEY_ID.matcher(id).matches()) return Optional.empty();
      String text;
      try {
        text = Files.readString(dir.resolve(id + ".json"));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      } catch (IOException e) {
        throw new InvalidTokenException("could not read the credentials of " + id + ": " + e.getClass().getSimpleName());
      }
      Map<String, JsonNode> o = JsonNodeParser.create().parse(text).asObject();
      return Optional.of(new Credentials(
          id,
          string(o, "secretAccessKey"),
          string(o, "sessionToken"),
          Optional.ofNullable(string(o, "expiration")).map(Instant::parse).orElse(null),
          Optional.ofNullable(string(o, "principal")).orElse("arn:aws:iam::123456789012:user/" + id)));
    };
  }

  static CredentialsSource firstOf(List<CredentialsSource> sources) {
    return id -> {
      for (CredentialsSource s : sources) {
        Optional<Credentials> c = s.find(id);
        if (c.isPresent()) return c;
      }
      return Optional.empty();
    };
  }

  private static String string(Map<String, JsonNode> o, String key) {
    JsonNode n = o.get(key);
    return n == null || !n.isString() ? null : n.asString();
  }
}
