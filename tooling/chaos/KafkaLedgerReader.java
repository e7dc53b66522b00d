// The ledger's independent Kafka consumer: Apache's own Java client (kafka-clients, from the broker's
// lib folder that tooling/services/kafka.sh uses), not kafkajs, which the project publishes with.
// Reads every partition of the given topics from the beginning up to the end offsets it finds at
// start, straight from the broker (never through the fault proxy), and prints one line per record:
//   topic <TAB> partition <TAB> offset <TAB> key <TAB> value
// Run as a single source file: java -cp "<kafka lib>/*" KafkaLedgerReader.java <bootstrap> <topic,topic…>
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class KafkaLedgerReader {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: KafkaLedgerReader <bootstrap> <topic,topic...>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("enable.auto.commit", "false");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    props.put("max.poll.records", "5000");
    long deadline = System.currentTimeMillis() + 120_000;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : args[1].split(",")) {
        if (topic.isEmpty()) continue;
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null) continue;
        for (PartitionInfo info : infos) partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
      StringBuilder out = new StringBuilder();
      while (true) {
        end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
        if (end.isEmpty()) break;
        if (System.currentTimeMillis() > deadline) {
          System.err.println("KafkaLedgerReader: end offsets not reached within 120 s: " + end);
          System.exit(1);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          out.setLength(0);
          out.append(r.topic()).append('\t').append(r.partition()).append('\t').append(r.offset()).append('\t')
              .append(r.key()).append('\t').append(r.value());
          System.out.println(out);
        }
      }
    }
  }
}
