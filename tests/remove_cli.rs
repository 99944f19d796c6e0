//! `updraft remove` leaves nothing behind: the `updraft` binary against moto, on the example
//! service with a custom role name and an `s3` event on an existing bucket that another team's
//! queue notification also uses. Also: a bucket whose notification configuration cannot be read
//! does not stop the rest of the remove, and credentials in the environment win over a
//! `provider.profile` that is not defined on the machine.

mod common;
#[path = "deploy_cli/moto.rs"]
mod moto;

use std::path::Path;

use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};

const ROLE: &str = "my-custom-role-name";
const BUCKET: &str = "legacy-uploads";
const OTHER_TEAM: &str = "other-team-notification";

fn run(service: &Path, moto: &moto::Moto, args: &[&str]) -> common::Run {
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::updraft(service, args, &env)
}

/// The example service with `provider.iam.role.name` and an `s3` event on an existing bucket.
fn service_with_custom_role_and_existing_bucket() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, service) = moto::example_service();
    let manifest = service.join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest reads");
    let text = text.replacen(
        "  iam:\n    role:\n",
        &format!("  iam:\n    role:\n      name: {ROLE}\n"),
        1,
    );
    let report_route = "      - httpApi:\n          path: /report\n          method: get\n";
    assert!(text.contains(report_route), "the example's report route");
    let text = text.replacen(
        report_route,
        &format!(
            "{report_route}      - s3:\n          bucket: {BUCKET}\n          event: s3:ObjectCreated:*\n          existing: true\n"
        ),
        1,
    );
    std::fs::write(&manifest, text).expect("the manifest is written");
    (dir, service)
}

struct Aws {
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

impl Aws {
    fn new(moto: &moto::Moto) -> Aws {
        let runtime = moto::runtime();
        let config = moto.sdk(&runtime);
        Aws { runtime, config }
    }

    /// The existing bucket, with another team's queue notification on it.
    fn seed_bucket_with_another_teams_notification(&self) {
        let s3 = aws_sdk_s3::Client::new(&self.config);
        let sqs = aws_sdk_sqs::Client::new(&self.config);
        self.runtime.block_on(async {
            s3.create_bucket()
                .bucket(BUCKET)
                .send()
                .await
                .expect("bucket");
            let queue = sqs
                .create_queue()
                .queue_name("other-team-queue")
                .send()
                .await
                .expect("queue");
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(queue.queue_url().unwrap_or_default())
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .expect("queue attributes");
            let arn = attributes
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
                .cloned()
                .expect("the queue's ARN");
            let theirs = QueueConfiguration::builder()
                .id(OTHER_TEAM)
                .queue_arn(arn)
                .events(Event::S3ObjectRemoved)
                .build()
                .expect("a queue configuration");
            s3.put_bucket_notification_configuration()
                .bucket(BUCKET)
                .notification_configuration(
                    NotificationConfiguration::builder()
                        .queue_configurations(theirs)
                        .build(),
                )
                .send()
                .await
                .expect("their notification is set");
        });
    }

    /// (queue configuration ids, Lambda function ARNs) on the existing bucket.
    fn notifications(&self) -> (Vec<String>, Vec<String>) {
        let s3 = aws_sdk_s3::Client::new(&self.config);
        let answer = self
            .runtime
            .block_on(
                s3.get_bucket_notification_configuration()
                    .bucket(BUCKET)
                    .send(),
            )
            .expect("moto answers with the notification configuration");
        (
            answer
                .queue_configurations()
                .iter()
                .filter_map(|q| q.id().map(str::to_string))
                .collect(),
            answer
                .lambda_function_configurations()
                .iter()
                .map(|l| l.lambda_function_arn().to_string())
                .collect(),
        )
    }

    fn role_exists(&self, name: &str) -> bool {
        let iam = aws_sdk_iam::Client::new(&self.config);
        self.runtime
            .block_on(iam.get_role().role_name(name).send())
            .is_ok()
    }

    /// Every resource carrying the example service's ownership tags.
    fn owned(&self) -> Vec<String> {
        moto::owned(&self.runtime, &self.config, "updraft-example", "dev")
    }

    fn clear_notifications(&self) {
        let s3 = aws_sdk_s3::Client::new(&self.config);
        self.runtime
            .block_on(
                s3.put_bucket_notification_configuration()
                    .bucket(BUCKET)
                    .notification_configuration(NotificationConfiguration::builder().build())
                    .send(),
            )
            .expect("the notifications are cleared");
    }
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn remove_leaves_no_custom_role_and_no_notification_on_an_existing_bucket() {
    let moto = moto::moto("remove_leaves_no_custom_role_and_no_notification_on_an_existing_bucket");
    let aws = Aws::new(&moto);
    aws.seed_bucket_with_another_teams_notification();
    let (_dir, service) = service_with_custom_role_and_existing_bucket();

    let deploy = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(deploy.status, Some(0), "{}{}", deploy.stdout, deploy.stderr);
    assert!(aws.role_exists(ROLE), "the deploy created the custom role");
    let (queues, lambdas) = aws.notifications();
    assert_eq!(queues, vec![OTHER_TEAM.to_string()]);
    assert_eq!(lambdas.len(), 1, "the report function is notified");
    assert!(!aws.owned().is_empty());

    // A fresh process with nothing remembered: what remove finds, it finds in the cloud.
    let removed = run(&service, &moto, &["remove", "--yes"]);
    assert_eq!(
        removed.status,
        Some(0),
        "{}{}",
        removed.stdout,
        removed.stderr
    );
    assert!(!aws.role_exists(ROLE), "remove deleted the custom role");
    let (queues, lambdas) = aws.notifications();
    assert_eq!(
        lambdas,
        Vec::<String>::new(),
        "no notification points at a deleted function"
    );
    assert_eq!(
        queues,
        vec![OTHER_TEAM.to_string()],
        "the other team's notification is untouched"
    );
    assert_eq!(aws.owned(), Vec::<String>::new(), "nothing owned is left");

    let again = run(&service, &moto, &["remove", "--yes"]);
    assert_eq!(again.status, Some(0), "{}", again.stderr);
    assert!(
        again.stdout.contains("Nothing to remove"),
        "{}",
        again.stdout
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn an_empty_notification_answer_reads_as_no_notifications_and_the_remove_completes() {
    let moto = moto::moto(
        "an_empty_notification_answer_reads_as_no_notifications_and_the_remove_completes",
    );
    let aws = Aws::new(&moto);
    aws.seed_bucket_with_another_teams_notification();
    let (_dir, service) = service_with_custom_role_and_existing_bucket();
    let deploy = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(deploy.status, Some(0), "{}{}", deploy.stdout, deploy.stderr);

    // With no configuration left on the bucket, moto answers `<GetBucketNotificationResponse/>`
    // where S3 answers an empty `<NotificationConfiguration/>`: both mean "none".
    aws.clear_notifications();
    let removed = run(&service, &moto, &["remove", "--yes"]);
    assert_eq!(
        removed.status,
        Some(0),
        "{}{}",
        removed.stdout,
        removed.stderr
    );
    assert!(!aws.role_exists(ROLE), "the role was removed");
    let lambda = aws_sdk_lambda::Client::new(&aws.config);
    let functions = aws
        .runtime
        .block_on(lambda.list_functions().send())
        .expect("functions");
    assert!(
        functions.functions().is_empty(),
        "the functions were removed"
    );
    assert_eq!(aws.owned(), Vec::<String>::new(), "nothing owned is left");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn environment_credentials_win_over_an_undefined_provider_profile() {
    let moto = moto::moto("environment_credentials_win_over_an_undefined_provider_profile");
    let (_dir, service) = moto::example_service();
    let manifest = service.join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest reads");
    let text = text.replacen(
        "  name: aws\n",
        "  name: aws\n  profile: not-defined-on-this-machine\n",
        1,
    );
    std::fs::write(&manifest, text).expect("the manifest is written");

    let plan = run(&service, &moto, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status,
        Some(2),
        "the environment's keys sign, the manifest's profile is not looked up: {}",
        plan.stderr
    );

    // `--aws-profile` wins over the environment, so an undefined one is refused.
    let named = run(
        &service,
        &moto,
        &["plan", "--aws-profile", "not-defined-either"],
    );
    assert_eq!(named.status, Some(1), "{}", named.stderr);
}
