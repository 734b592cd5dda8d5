#!/usr/bin/env bash
# A sweep as a Cloud Run job of N tasks writing to a mounted Cloud Storage bucket, then the
# merge step as a second job. See docs/sweeps.md ("On Cloud Run jobs").
#
#   IMAGE=REGION-docker.pkg.dev/PROJECT/REPO/ipsim:VERSION BUCKET=my-bucket REGION=europe-west1 \
#       deploy/cloud-run/sweep.sh [N]
#
# Each task gets CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT, which `--shard auto` reads;
# it writes gs://BUCKET/surge/shard-INDEX through the volume mounted at /mnt/results (Cloud
# Storage FUSE). The job's service account needs write access to the bucket. --args is a
# comma-separated list: a --vary list of values (A,B,C) needs gcloud's other delimiter, e.g.
# --args='^|^sweep|/scenarios/surge.json|--vary|surge.peak=100,200,300|...'.
set -euo pipefail
: "${IMAGE:?set IMAGE to the image built from the Dockerfile}"
: "${BUCKET:?set BUCKET to the Cloud Storage bucket for the results}"
: "${REGION:?set REGION}"
n=${1:-8}
volume=(--add-volume "name=results,type=cloud-storage,bucket=$BUCKET"
    --add-volume-mount "volume=results,mount-path=/mnt/results")

gcloud run jobs create ipsim-sweep --region "$REGION" --image "$IMAGE" \
    --tasks "$n" --parallelism "$n" --max-retries 2 --task-timeout 24h \
    --cpu 4 --memory 2Gi "${volume[@]}" \
    --args=sweep,/scenarios/surge.json,--vary,surge.peak=100..1000:10,--vary,subnet.edge-subnet.prefix=20..24,--seeds,50,--shard,auto,--out,/mnt/results/surge
gcloud run jobs execute ipsim-sweep --region "$REGION" --wait

# The merge step: one task reads every shard-I folder in /mnt/results/surge.
gcloud run jobs create ipsim-merge --region "$REGION" --image "$IMAGE" \
    --tasks 1 --max-retries 0 --cpu 1 --memory 1Gi "${volume[@]}" \
    --args=merge,/mnt/results/surge,--out,/mnt/results/surge/sweep
gcloud run jobs execute ipsim-merge --region "$REGION" --wait
echo "results: gs://$BUCKET/surge/sweep/ (sweep.csv, sweep.json, heatmap.png)"
