// Any failure, shown from the error catalogue: title, what happened, what to do. Never a raw code.
import { Alert } from 'antd'
import type { ReactNode } from 'react'
import { describeError, type AppErrorData } from '../../../shared/errors'

export interface ErrorAlertProps {
  error: AppErrorData
  testId?: string
  type?: 'error' | 'warning' | 'info'
  /** Extra line under the catalogue text (e.g. tries left). */
  extra?: ReactNode
  action?: ReactNode
}

export function ErrorAlert({ error, testId = 'error', type = 'error', extra, action }: ErrorAlertProps): ReactNode {
  const text = describeError(error)
  return (
    <div data-testid={testId} data-code={error.code} className="error-alert">
      <Alert
        type={type}
        showIcon
        title={text.title}
        description={
          <>
            <div>{text.message}</div>
            {extra ? <div className="error-alert__extra">{extra}</div> : null}
            <div className="error-alert__action">{text.action}</div>
          </>
        }
        action={action}
      />
    </div>
  )
}
