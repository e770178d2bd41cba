"""The stream worker: a Faust (faust-streaming) adapter around the judge. It decodes each Kafka
record or dead-letters it, batches segments, hands them to `pipeline.judge.Judge` with its state
in Faust tables, delivers the alerts and commits offsets only after delivery.

Owns: the Faust app and agents, dead-letter records, the listings table, offset commits and
order, security credentials for Faust, the health file. May import `pipeline.judge`,
`pipeline.kafka` and below; nothing imports it but the command line.
"""
