package events.kaireon.mskiam;

import events.kaireon.mskiam.MskIamTokenVerifier.Credentials;
import events.kaireon.mskiam.MskIamTokenVerifier.CredentialsSource;
import events.kaireon.mskiam.MskIamTokenVerifier.InvalidTokenException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import software.amazon.awssdk.protocols.jsoncore.JsonNode;
import software.amazon.awssdk.protocols.jsoncore.JsonNodeParser;

/** The places the validator learns secrets from: what an MSK cluster would learn from IAM and STS. */
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
   * credentials it minted itself, with an expiry the emulator's state does not show. Read on each use.
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

  /**
   * The AWS emulator's state (moto's {@code /moto-api/data.json}): the temporary credentials its STS
   * issued (AssumeRole: key, secret, session token, role session ARN) and its IAM users' access keys.
   * moto's state carries no expiry of a role session; such a session is trusted until its token
   * expires. The endpoint is read from a file, because the emulator may start after the broker.
   * Found keys are cached: their secret never changes.
   */
  static CredentialsSource emulator(Path endpointFile) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    Map<String, Credentials> cache = new ConcurrentHashMap<>();
    return id -> {
      Credentials hit = cache.get(id);
      if (hit != null) return Optional.of(hit);
      String endpoint;
      try {
        endpoint = Files.readString(endpointFile).trim();
      } catch (IOException e) {
        return Optional.empty();
      }
      if (endpoint.isEmpty()) return Optional.empty();
      JsonNode state;
      try {
        HttpResponse<String> res = http.send(
            HttpRequest.newBuilder(URI.create(endpoint.replaceAll("/+$", "") + "/moto-api/data.json")).timeout(Duration.ofSeconds(5)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) throw new InvalidTokenException("the AWS emulator's state answered HTTP " + res.statusCode());
        state = JsonNodeParser.create().parse(res.body());
      } catch (IOException e) {
        throw new InvalidTokenException("could not read the AWS emulator's state to look up " + id + ": " + e.getClass().getSimpleName());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InvalidTokenException("interrupted while reading the AWS emulator's state");
      }
      for (JsonNode role : list(state, "sts", "AssumedRole")) {
        Map<String, JsonNode> o = role.asObject();
        if (!id.equals(string(o, "access_key_id"))) continue;
        Credentials c = new Credentials(id, string(o, "secret_access_key"), string(o, "session_token"), null, string(o, "arn"));
        cache.put(id, c);
        return Optional.of(c);
      }
      for (JsonNode key : list(state, "iam", "AccessKey")) {
        Map<String, JsonNode> o = key.asObject();
        if (!id.equals(string(o, "access_key_id")) || !"Active".equals(string(o, "status"))) continue;
        Credentials c = new Credentials(id, string(o, "secret_access_key"), null, null, "arn:aws:iam::123456789012:user/" + string(o, "user_name"));
        cache.put(id, c);
        return Optional.of(c);
      }
      return Optional.empty();
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

  private static List<JsonNode> list(JsonNode root, String service, String model) {
    if (!root.isObject()) return List.of();
    JsonNode s = root.asObject().get(service);
    if (s == null || !s.isObject()) return List.of();
    JsonNode m = s.asObject().get(model);
    return m == null || !m.isArray() ? List.of() : m.asArray();
  }

  private static String string(Map<String, JsonNode> o, String key) {
    JsonNode n = o.get(key);
    return n == null || !n.isString() ? null : n.asString();
  }
}
