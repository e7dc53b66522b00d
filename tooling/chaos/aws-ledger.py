"""The ledger's independent AWS side: boto3 (from the moto venv), not the AWS SDK for JavaScript that
the project publishes with. It creates and removes the run's own Kinesis stream or EventBridge bus →
SQS queue, and reads what arrived straight from the emulator (AWS_ENDPOINT_URL, never the fault proxy),
printing one JSON line per record: {"id", "topic", "key", "part", "pos"}.

  python aws-ledger.py kinesis-create <stream> <shards> | kinesis-read <stream> | kinesis-delete <stream>
  python aws-ledger.py eb-create <name> <topic,topic…>  | eb-read <name>       | eb-delete <name>
"""

import json
import os
import sys
import time

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "us-east-1")


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION)


def emit(envelope, part, pos):
    print(json.dumps({"id": envelope.get("id"), "topic": envelope.get("type"), "key": envelope.get("partitionkey"), "part": part, "pos": pos}))


def kinesis_create(stream, shards):
    k = client("kinesis")
    k.create_stream(StreamName=stream, ShardCount=int(shards))
    k.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def kinesis_read(stream):
    k = client("kinesis")
    shards = k.list_shards(StreamName=stream)["Shards"]
    for shard in shards:
        it = k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        deadline = time.time() + 120
        while it and time.time() < deadline:
            page = k.get_records(ShardIterator=it, Limit=10000)
            for r in page["Records"]:
                emit(json.loads(r["Data"]), shard["ShardId"], r["SequenceNumber"])
            it = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break


def kinesis_delete(stream):
    client("kinesis").delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


def eb_create(name, topics):
    eb, sqs = client("events"), client("sqs")
    eb.create_event_bus(Name=name)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    eb.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"detail-type": topics.split(",")}), State="ENABLED")
    eb.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "ledger", "Arn": arn}])


def eb_read(name):
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    empty, n = 0, 0
    # SQS has no end offset: the queue is read until three receives in a row come back empty.
    while empty < 3:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=600).get("Messages", [])
        if not got:
            empty += 1
            continue
        empty = 0
        for m in got:
            n += 1
            emit(json.loads(m["Body"])["detail"], "queue", n)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])


def eb_delete(name):
    eb, sqs = client("events"), client("sqs")
    try:
        eb.remove_targets(Rule=name, EventBusName=name, Ids=["ledger"])
        eb.delete_rule(Name=name, EventBusName=name)
        eb.delete_event_bus(Name=name)
    finally:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])


COMMANDS = {
    "kinesis-create": kinesis_create,
    "kinesis-read": kinesis_read,
    "kinesis-delete": kinesis_delete,
    "eb-create": eb_create,
    "eb-read": eb_read,
    "eb-delete": eb_delete,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
