//! SDK clients that talk to moto directly (not through the recording proxy), to seed it and to
//! check what a deploy made the way AWS reports it.

use super::moto::{direct_config, Moto};

pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub apigatewayv2: aws_sdk_apigatewayv2::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sns: aws_sdk_sns::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub fn new(runtime: &tokio::runtime::Runtime, moto: &Moto) -> Clients {
        let config = direct_config(runtime, moto);
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            apigateway: aws_sdk_apigateway::Client::new(&config),
            apigatewayv2: aws_sdk_apigatewayv2::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}
